/** The check a route runs before its handler: an identity, and one that holds the permission. */
import type { FastifyRequest } from 'fastify';
import { StamplineError } from '../../errors.js';
import { allows, holdersOf, type Identity, type Permission } from './types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** who sent the request, resolved from the session cookie or the bearer token */
    identity?: Identity;
    /** why the credentials the request carried gave no identity (an expired session, an unknown token) */
    identityProblem?: string;
    /**
     * Whether the identity is still good: for a session, that it was not ended (logout, the user
     * disabled, a new password), has not expired, and its user is still enabled; a bearer token
     * is always good. Cheap, and does not move the session's expiry: for long-lived answers such
     * as event streams, which ask again now and then. Set with the identity.
     */
    identityLive?: () => boolean;
  }
}

export function requires(permission: Permission) {
  return async (req: FastifyRequest): Promise<void> => {
    const who = req.identity;
    if (!who) {
      throw new StamplineError(
        'AUTH_REQUIRED',
        req.identityProblem ?? 'log in, or send a bearer token (Authorization: Bearer ...)',
        { permission },
      );
    }
    if (!allows(who, permission)) {
      throw new StamplineError(
        'AUTH_FORBIDDEN',
        `${who.kind === 'user' ? `user ${who.name} (${who.role})` : `the ${who.role} token`} may not do that; it needs ${permission}, held by: ${holdersOf(permission).join(', ')}`,
        { permission, role: who.role },
      );
    }
  };
}

/** The audit actor of a request that passed `requires`. */
export function actorOf(req: FastifyRequest): string {
  return req.identity?.name ?? 'unknown';
}
