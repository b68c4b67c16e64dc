/*! tracerboy.js: a tracerboy client; see README "Track a website" */
(function (w, d, n) {
if (w.tracerboy) return;
var s = d.currentScript, D = s.dataset, url = new URL('analytics/batch', s.src).href, P = 'tracerboy:',
  WINDOW = (D.idWindowHours || 24) * 36e5, q = [], B = {}, K, A, ls, busy, timer, until = 0, tries = 0, spent = 0, gone,
  now = () => Date.now(),
  warn = m => console.warn('tracerboy: ' + m),
  get = k => { try { return JSON.parse(ls.getItem(k)) } catch (e) {} },
  put = (k, v) => { try { v ? ls.setItem(k, JSON.stringify(v)) : ls.removeItem(k) } catch (e) {} },
  save = () => put(K, q.length && {t: gone ? 0 : now(), q}),
  cap = () => q.length > 1e3 && warn('queue full: dropped the ' + q.splice(0, q.length - 1e3).length + ' oldest events'),
  bytes = x => encodeURIComponent(x).replace(/%../g, 1).length,
  line = e => JSON.stringify(e, ['timestamp', 'user', 'event', 'id']) + '\n',
  post = (body, keepalive) => fetch(url, {method: 'POST', body, keepalive, credentials: 'omit',
    signal: AbortSignal.timeout?.(3e4)});
try { ls = w.localStorage } catch (e) {}

function uuid(t) {
  var b = crypto.getRandomValues(new Uint8Array(16)), i = 6, h = '';
  for (; i--; t = Math.floor(t / 256)) b[i] = t % 256;
  b[6] = b[6] & 15 | 112;
  b[8] = b[8] & 63 | 128;
  for (; ++i < 16;) h += (i % 2 || i < 4 || i > 10 ? '' : '-') + (b[i] + 256).toString(16).slice(1);
  return h;
}

function adopt() {
  try {
    for (var i = ls.length, k, x; i--;)
      if (!(k = ls.key(i)).indexOf(P + 'q:') && k != K && (x = get(k)) && now() - x.t > 3e5)
        ls.removeItem(k), q = q.concat(x.q);
  } catch (e) {}
  q.sort((a, b) => a.timestamp - b.timestamp);
  cap();
}

function plan(ms) {
  if (busy || !q.length) return;
  ms = Math.max(until - now(), q.length < 50 && 1e3);
  if (!timer || ms <= 0) clearTimeout(timer), timer = setTimeout(send, ms);
}

function send() {
  timer = 0;
  if (busy) return;
  adopt();
  var old = q.length, b, st;
  q = q.filter(e => !e.u || e.timestamp - e.timestamp % 36e5 + WINDOW > now());
  if (old -= q.length) warn('dropped ' + old + ' events sent but not acknowledged within the event-id window');
  save();
  if (!(b = q.slice(0, 50)).length) return;
  busy = 1;
  post(b.map(line).join('')).then(r => (st = r.status) < 300 ? done(b)
    : st == 408 || st == 429 || st > 499 ? fail(b, st, r.headers.get('Retry-After'))
    : r.text().catch(() => '').then(x => done(b, warn('dropped ' + b.length + ' events refused with ' + st + ': ' + x.trim()))),
    () => fail(b));
}

function done(b, ids) {
  ids = {};
  b.map(e => ids[e.id] = 1);
  q = q.filter(e => !ids[e.id]);
  busy = until = tries = spent = 0;
  save();
  plan();
}

function fail(b, s, ra, ms) {
  ms = Math.min(6e4, 1e3 * 2 ** tries++);
  if (s != 503 && s != 429 && s != 408) b.map(e => e.u = 1);
  ms = Math.max(ms, ra ? ra * 1e3 || Date.parse(ra) - now() || 0 : 0);
  until = now() + ms + ms * Math.random() / 2;
  busy = 0;
  save();
  plan();
}

function exit(leaving) {
  var body = '', l;
  q.map(e => !B[e.id] && (spent += bytes(l = line(e))) < 6e4 && (body += l, B[e.id] = e.u = 1));
  if (body && !n.sendBeacon?.(url, body)) post(body, true).catch(() => 0);
  gone |= leaving;
  save();
}

function rec(event, user, t, e) {
  t = now();
  user = String(user ?? T.user ?? (A = A || get(P + 'user') || (put(P + 'user', uuid(t)), get(P + 'user')) || uuid(t)));
  try { e = !/%00/.test(encodeURIComponent(user)) && bytes(user) - 1 < 256 && user } catch (x) {}
  if (!e) return warn('user: expected 1 to 256 bytes of UTF-8 without NUL, found ' + JSON.stringify(user));
  q.push(e = {timestamp: t, user, event, id: uuid(t)});
  cap();
  gone ? exit(1) : (save(), plan());
  return e.id;
}

K = P + 'q:' + uuid(now());
adopt();
save();
plan();
d.addEventListener('visibilitychange', () => d.visibilityState == 'hidden' && exit());
addEventListener('pagehide', () => exit(1));
addEventListener('pageshow', e => e.persisted && (q = get(K)?.q || [], B = {}, gone = spent = 0, plan()));
addEventListener('online', () => (clearTimeout(timer), timer = until = tries = 0, plan()));
var T = w.tracerboy = {user: D.user, click: u => rec('click', u), impression: u => rec('impression', u)};
})(window, document, navigator);
