// The certificate page's one action: printing (the page's policy allows no inline script).
document.getElementById('print')?.addEventListener('click', () => window.print());
