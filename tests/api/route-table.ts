/**
 * Every route of the API with the permission it needs (issue 5's table), and for each a request
 * that names a bad field, as the tests send them. The docs test checks that this table and the
 * OpenAPI document list the same routes.
 */
import type { Permission } from '../../src/api/auth/types.js';

export interface RouteCase {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** the route as declared */
  route: string;
  /** a concrete url for it; refused or answered without changing anything */
  url: string;
  permission: Permission | 'open' | 'identity';
  body?: unknown;
  /** a request with bad input, and the field the answer must name */
  bad?: { url?: string; body?: unknown; field: string };
}

const UNKNOWN_RECORD = '00000000-0000-4000-8000-000000000000';

export const ROUTES: RouteCase[] = [
  {
    method: 'POST',
    route: '/api/v1/orders',
    url: '/api/v1/orders',
    permission: 'orders.submit',
    body: { id: 'X', make: 'Acme', model: '', firearms: [] },
    bad: {
      body: { id: 'X', make: 'Acme', model: 'P1', firearms: [{ serial: 'lower case' }] },
      field: 'firearms[0].serial',
    },
  },
  { method: 'GET', route: '/api/v1/orders', url: '/api/v1/orders', permission: 'view' },
  {
    method: 'GET',
    route: '/api/v1/orders/:id',
    url: '/api/v1/orders/NOPE',
    permission: 'view',
    bad: { url: `/api/v1/orders/${'x'.repeat(65)}`, field: 'id' },
  },
  ...(['start', 'pause', 'resume', 'abort'] as const).map(
    (action): RouteCase => ({
      method: 'POST',
      route: `/api/v1/orders/:id/${action}`,
      url: `/api/v1/orders/NOPE/${action}`,
      permission: 'orders.control',
      body: {},
      bad: { url: `/api/v1/orders/NOPE/${action}`, body: { reason: 42 }, field: 'reason' },
    }),
  ),
  { method: 'GET', route: '/api/v1/line', url: '/api/v1/line', permission: 'view' },
  {
    method: 'POST',
    route: '/api/v1/engraver/reset',
    url: '/api/v1/engraver/reset',
    permission: 'engraver.reset',
    body: {},
    bad: { body: { force: true }, field: 'force' },
  },
  { method: 'GET', route: '/api/v1/outbox', url: '/api/v1/outbox', permission: 'view' },
  {
    method: 'POST',
    route: '/api/v1/outbox/:id/retry',
    url: `/api/v1/outbox/${UNKNOWN_RECORD}/retry`,
    permission: 'outbox.retry',
    body: {},
    bad: { url: '/api/v1/outbox/not-a-record/retry', body: {}, field: 'id' },
  },
  {
    method: 'POST',
    route: '/api/v1/outbox/:id/dismiss',
    url: `/api/v1/outbox/${UNKNOWN_RECORD}/dismiss`,
    permission: 'outbox.dismiss',
    body: { reason: 'fixed at the registry' },
    bad: { url: `/api/v1/outbox/${UNKNOWN_RECORD}/dismiss`, body: { reason: '   ' }, field: 'reason' },
  },
  {
    method: 'GET',
    route: '/api/v1/alarms',
    url: '/api/v1/alarms',
    permission: 'view',
    bad: { url: '/api/v1/alarms?limit=0', field: 'limit' },
  },
  {
    method: 'POST',
    route: '/api/v1/alarms/:id/ack',
    url: '/api/v1/alarms/999999/ack',
    permission: 'alarms.ack',
    body: {},
    bad: { url: '/api/v1/alarms/not-an-id/ack', body: {}, field: 'id' },
  },
  {
    method: 'POST',
    route: '/api/v1/qa/reads',
    url: '/api/v1/qa/reads',
    permission: 'qa.read',
    body: { serial: 'NOPE', text: '0123456789', ammo: { brand: 'Federal', lacquered: false } },
    bad: {
      body: { serial: 'NOPE', text: '0123456789', ammo: { brand: 'Federal', lacquered: 'no' } },
      field: 'ammo.lacquered',
    },
  },
  { method: 'GET', route: '/api/v1/qa/policy', url: '/api/v1/qa/policy', permission: 'view' },
  {
    method: 'POST',
    route: '/api/v1/identify',
    url: '/api/v1/identify',
    permission: 'identify',
    body: { reads: [{ text: '0123456789' }] },
    bad: { body: { reads: [{ text: '0123456789' }, { gear: '0101' }] }, field: 'reads[1].gear' },
  },
  {
    method: 'POST',
    route: '/api/v1/qa/images/read',
    url: '/api/v1/qa/images/read',
    permission: 'qa.read',
    body: { image: Buffer.from('not an image').toString('base64') },
    bad: { body: { image: '' }, field: 'image' },
  },
  { method: 'POST', route: '/api/v1/qa/images', url: '/api/v1/qa/images', permission: 'qa.read', body: {} },
  {
    method: 'GET',
    route: '/api/v1/qa/firearms/:serial',
    url: '/api/v1/qa/firearms/NOPE',
    permission: 'view',
    bad: { url: '/api/v1/qa/firearms/NO%20PE', field: 'serial' },
  },
  {
    method: 'GET',
    route: '/api/v1/records',
    url: '/api/v1/records?serial=NOPE',
    permission: 'view',
    bad: { url: '/api/v1/records?serial=A&order=B', field: 'order' },
  },
  {
    method: 'GET',
    route: '/api/v1/records.csv',
    url: '/api/v1/records.csv?serial=NOPE',
    permission: 'view',
    bad: { url: '/api/v1/records.csv?serial=A&code=B', field: 'code' },
  },
  {
    method: 'GET',
    route: '/api/v1/records/:serial',
    url: '/api/v1/records/NOPE',
    permission: 'view',
    bad: { url: '/api/v1/records/NO_PE', field: 'serial' },
  },
  {
    method: 'GET',
    route: '/api/v1/stats',
    url: '/api/v1/stats?by=model',
    permission: 'view',
    bad: { url: '/api/v1/stats?by=colour', field: 'by' },
  },
  {
    method: 'GET',
    route: '/api/v1/stats.csv',
    url: '/api/v1/stats.csv?by=ammo&from=2025-03-01&to=2025-03-31',
    permission: 'view',
    bad: { url: '/api/v1/stats.csv?from=2025-02-30', field: 'from' },
  },
  {
    method: 'GET',
    route: '/api/v1/stats/trend',
    url: '/api/v1/stats/trend?from=2025-03-01&to=2025-03-07&per=shift',
    permission: 'view',
    bad: { url: '/api/v1/stats/trend?from=2025-03-08&to=2025-03-01', field: 'from' },
  },
  {
    method: 'GET',
    route: '/api/v1/stats/trend.csv',
    url: '/api/v1/stats/trend.csv?from=2025-03-01&to=2025-03-07',
    permission: 'view',
    bad: { url: '/api/v1/stats/trend.csv?per=week', field: 'per' },
  },
  {
    method: 'GET',
    route: '/api/v1/audit',
    url: '/api/v1/audit?limit=1',
    permission: 'audit.read',
    bad: { url: '/api/v1/audit?from=yesterday', field: 'from' },
  },
  {
    method: 'GET',
    route: '/api/v1/audit.csv',
    url: '/api/v1/audit.csv?limit=1',
    permission: 'audit.read',
    bad: { url: '/api/v1/audit.csv?to=later', field: 'to' },
  },
  { method: 'GET', route: '/api/v1/audit/verify', url: '/api/v1/audit/verify', permission: 'audit.read' },
  { method: 'GET', route: '/api/v1/backup', url: '/api/v1/backup', permission: 'backup' },
  {
    method: 'GET',
    route: '/api/v1/firearms/:serial/pin.svg',
    url: '/api/v1/firearms/NOPE/pin.svg',
    permission: 'view',
    bad: { url: '/api/v1/firearms/NOPE/pin.svg?view=side', field: 'view' },
  },
  // The event stream is refused like the others; an allowed caller's stream is tested on its own.
  { method: 'GET', route: '/api/v1/events', url: '/api/v1/events', permission: 'view' },
  { method: 'GET', route: '/api/v1/errors', url: '/api/v1/errors', permission: 'open' },
  { method: 'GET', route: '/healthz', url: '/healthz', permission: 'open' },
  { method: 'GET', route: '/metrics', url: '/metrics', permission: 'open' },
  // Access control's own routes (src/api/auth), listed so that the document's routes are all here.
  { method: 'POST', route: '/api/v1/session', url: '/api/v1/session', permission: 'open' },
  { method: 'GET', route: '/api/v1/session', url: '/api/v1/session', permission: 'identity' },
  { method: 'DELETE', route: '/api/v1/session', url: '/api/v1/session', permission: 'open' },
  { method: 'GET', route: '/api/v1/users', url: '/api/v1/users', permission: 'users.manage' },
  { method: 'POST', route: '/api/v1/users', url: '/api/v1/users', permission: 'users.manage' },
  { method: 'PATCH', route: '/api/v1/users/:name', url: '/api/v1/users/nobody', permission: 'users.manage' },
];

/** The routes this API owns and guards with a permission. */
export const GUARDED = ROUTES.filter(
  (r): r is RouteCase & { permission: Permission } =>
    r.permission !== 'open' && r.permission !== 'identity' && !r.route.startsWith('/api/v1/users'),
);
