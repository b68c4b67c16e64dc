// The queue, batching and retry logic of tracerboy.js, run by Node's own test runner (node --test, no npm) on the
// exact file the server serves. Each page is the script evaluated in its own context with fakes for what a browser
// gives it: localStorage (shared by the pages of one "browser"), fetch and sendBeacon (the fake server), document and
// its events, crypto, a clock that moves only when a test moves it, and Math.random (to pin the jitter).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { randomBytes } = require('node:crypto');

const SOURCE = fs.readFileSync(path.join(__dirname, '../../main/resources/web/tracerboy.js'), 'utf8');
const START_MS = Date.UTC(2026, 10, 2, 10, 15); // 10:15 UTC, so an hour boundary is 45 min away
const HOUR_MS = 3_600_000;
const BEACON_BUDGET_BYTES = 64 * 1024;
const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const settle = () => new Promise(resolve => setImmediate(resolve));

/** The storage of one origin in one browser: what localStorage gives a page, shared by its tabs. */
class FakeStorage {
    constructor() { this.items = new Map(); }
    get length() { return this.items.size; }
    key(i) { return i < this.items.size ? [...this.items.keys()][i] : null; }
    getItem(k) { return this.items.has(k) ? this.items.get(k) : null; }
    setItem(k, v) { this.items.set(k, String(v)); }
    removeItem(k) { this.items.delete(k); }
    /** The events queued by every page, by queue key. */
    queues() {
        const out = {};
        for (const [k, v] of this.items) if (k.startsWith('tracerboy:q:')) out[k] = JSON.parse(v);
        return out;
    }
    queuedEvents() { return Object.values(this.queues()).flatMap(x => x.q); }
}

/**
 * One browser: a clock, its timers, one origin's localStorage, the server's answers, and what was sent. A request
 * is answered by respond(request): {status, headers, body}, 'network' for a failed fetch, 'hang', or 'later'
 * (failed when the test calls request.fail).
 */
class Browser {
    constructor() {
        this.nowMs = START_MS;
        this.timers = [];
        this.timerSeq = 0;
        this.storage = new FakeStorage();
        this.requests = [];
        this.beacons = [];
        this.random = 0;
        this.respond = () => ({ status: 200, body: '{"accepted":1}' });
    }

    /** Moves the clock by ms, running every timer that falls due on the way, in order. */
    async advance(ms) {
        const endMs = this.nowMs + ms;
        for (;;) {
            await settle();
            const due = this.timers.filter(t => t.atMs <= endMs).sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
            if (!due) break;
            this.timers.splice(this.timers.indexOf(due), 1);
            this.nowMs = due.atMs;
            due.fn();
        }
        this.nowMs = endMs;
        await settle();
    }

    /** Opens a page that loads the script from src, with data as the script tag's data-* attributes. */
    open({ src = 'https://t.example/tracerboy.js', data = {}, beacon = true, storage = true } = {}) {
        return new Page(this, src, data, beacon, storage);
    }
}

class Page {
    constructor(browser, src, data, beacon, storage) {
        this.browser = browser;
        this.listeners = {};
        this.documentListeners = {};
        this.warnings = [];
        this.alive = true;
        const page = this;
        const context = {
            document: {
                currentScript: { src, dataset: { ...data } },
                visibilityState: 'visible',
                addEventListener: (type, fn) => (page.documentListeners[type] ||= []).push(fn),
            },
            navigator: beacon ? {
                sendBeacon(url, body) {
                    browser.beacons.push({ page, url, body, lines: lines(body) });
                    return true;
                }
            } : {},
            crypto: { getRandomValues: a => { a.set(randomBytes(a.length)); return a; } },
            fetch: (url, options) => page.fetch(url, options),
            setTimeout: (fn, ms) => {
                const timer = { page, fn, atMs: browser.nowMs + Math.max(0, ms || 0), seq: browser.timerSeq++ };
                browser.timers.push(timer);
                return timer.seq + 1;
            },
            clearTimeout: id => {
                browser.timers = browser.timers.filter(t => t.seq + 1 !== id);
            },
            Date: { now: () => browser.nowMs, parse: Date.parse },
            Math: Object.assign(Object.create(null), ...Object.getOwnPropertyNames(Math).map(k => ({ [k]: Math[k] })),
                { random: () => browser.random }),
            console: { warn: m => { page.warnings.push(m); } },
            addEventListener: (type, fn) => (page.listeners[type] ||= []).push(fn),
            AbortSignal: { timeout: ms => ({ timeoutMs: ms }) },
            URL,
        };
        if (storage) {
            context.localStorage = browser.storage;
        } else {
            Object.defineProperty(context, 'localStorage', {
                get() { throw new Error('SecurityError: The operation is insecure.'); }
            });
        }
        context.window = context;
        this.context = vm.createContext(context);
        vm.runInContext(SOURCE, this.context);
        this.tracerboy = context.tracerboy;
    }

    fetch(url, options) {
        const request = { page: this, url, options, body: options.body, lines: lines(options.body),
            atMs: this.browser.nowMs };
        this.browser.requests.push(request);
        const answer = this.browser.respond(request);
        if (answer === 'hang') return new Promise(() => {});
        if (answer === 'later') return new Promise((_, reject) => { request.fail = reject; });
        if (answer === 'network') return Promise.reject(new TypeError('Failed to fetch'));
        const headers = answer.headers || {};
        return Promise.resolve({
            status: answer.status,
            headers: { get: name => headers[name] ?? null },
            text: () => Promise.resolve(answer.body ?? ''),
        });
    }

    fire(type, event = {}) {
        for (const fn of this.listeners[type] || []) fn(event);
    }

    hide() {
        this.context.document.visibilityState = 'hidden';
        for (const fn of this.documentListeners.visibilitychange || []) fn({});
    }

    /** The page goes away as on a navigation or a closed tab: pagehide, then none of its timers runs again. */
    leave() {
        this.hide();
        this.fire('pagehide', { persisted: false });
        this.kill();
    }

    /** The page stops without a word (a crash, a killed process): its timers never run again. */
    kill() {
        this.browser.timers = this.browser.timers.filter(t => t.page !== this);
    }

    /** Into the back-forward cache: pagehide (persisted), and its timers wait until it is shown again. */
    freeze() {
        this.hide();
        this.fire('pagehide', { persisted: true });
        this.frozen = { atMs: this.browser.nowMs, timers: this.browser.timers.filter(t => t.page === this) };
        this.kill();
    }

    thaw() {
        const frozenMs = this.browser.nowMs - this.frozen.atMs;
        this.frozen.timers.forEach(t => this.browser.timers.push({ ...t, atMs: t.atMs + frozenMs }));
        this.context.document.visibilityState = 'visible';
        this.fire('pageshow', { persisted: true });
    }
}

function lines(body) {
    assert.equal(typeof body, 'string', 'a string body, which fetch and sendBeacon send as text/plain;charset=UTF-8');
    assert.ok(body.endsWith('\n'), 'NDJSON ends with a newline');
    return body.slice(0, -1).split('\n').map(l => JSON.parse(l));
}

const answer = status => ({ status, body: status < 300 ? '{"accepted":1}' : '{"error":"no"}' });
const gapsMs = requests => requests.slice(1).map((r, i) => r.atMs - requests[i].atMs);

test('lingers one second after an event, then posts the queue as NDJSON text beside the script', async () => {
    const browser = new Browser();
    const page = browser.open({ src: 'https://t.example/tracerboy.js?v=0123abcd' });
    const first = page.tracerboy.click('alice');
    await browser.advance(400);
    const second = page.tracerboy.impression('bob');
    await browser.advance(599);
    assert.equal(browser.requests.length, 0, 'nothing before the linger has passed since the first event');
    await browser.advance(1);
    assert.equal(browser.requests.length, 1);
    const [request] = browser.requests;
    assert.equal(request.url, 'https://t.example/analytics/batch');
    assert.equal(request.options.method, 'POST');
    assert.equal(request.options.headers, undefined, 'no Content-Type of our own: text/plain needs no preflight');
    assert.equal(request.options.credentials, 'omit');
    assert.equal(request.options.signal.timeoutMs, 30_000, 'a hung request is given up after 30 s');
    assert.deepEqual(request.lines, [
        { timestamp: START_MS, user: 'alice', event: 'click', id: first },
        { timestamp: START_MS + 400, user: 'bob', event: 'impression', id: second },
    ]);
    assert.deepEqual(Object.keys(request.lines[0]), ['timestamp', 'user', 'event', 'id']);
    await browser.advance(60_000);
    assert.equal(browser.requests.length, 1, 'acknowledged: not sent again');
    assert.deepEqual(browser.storage.queues(), {}, 'acknowledged: removed from localStorage');
});

test('posts to analytics/batch beside the script when tracerboy is served under a path', async () => {
    const browser = new Browser();
    browser.open({ src: 'https://shop.example/tb/tracerboy.js' }).tracerboy.click('alice');
    await browser.advance(1_000);
    assert.equal(browser.requests[0].url, 'https://shop.example/tb/analytics/batch');
});

test('sends at once when 50 events are queued, at most 50 in a request', async () => {
    const browser = new Browser();
    const page = browser.open();
    for (let i = 0; i < 49; i++) page.tracerboy.click('u' + i);
    await browser.advance(0);
    assert.equal(browser.requests.length, 0);
    for (let i = 49; i < 120; i++) page.tracerboy.click('u' + i);
    await browser.advance(0);
    assert.deepEqual(browser.requests.map(r => r.lines.length), [50, 50], 'two full batches without lingering');
    assert.deepEqual(browser.requests.flatMap(r => r.lines.map(l => l.user)),
        Array.from({ length: 100 }, (_, i) => 'u' + i), 'in the order recorded');
    await browser.advance(999);
    assert.equal(browser.requests.length, 2, 'the last 20 linger');
    await browser.advance(1);
    assert.deepEqual(browser.requests.map(r => r.lines.length), [50, 50, 20]);
});

test('gives each event a UUIDv7 whose first 48 bits are the event timestamp', async () => {
    const browser = new Browser();
    const page = browser.open();
    const ids = [];
    for (let i = 0; i < 20; i++) {
        ids.push(page.tracerboy.click('alice'));
        await browser.advance(7);
    }
    await browser.advance(1_000);
    const sent = browser.requests.flatMap(r => r.lines);
    assert.deepEqual(sent.map(e => e.id), ids);
    for (const e of sent) {
        assert.match(e.id, UUID7);
        assert.equal(parseInt(e.id.replace(/-/g, '').slice(0, 12), 16), e.timestamp);
    }
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ids, 'time-ordered');
});

test('takes the user from the call, else tracerboy.user (data-user), else an anonymous id kept in localStorage',
    async () => {
        const browser = new Browser();
        const anonymous = browser.open();
        anonymous.tracerboy.click();
        const next = browser.open();
        next.tracerboy.impression();
        const site = browser.open({ data: { user: 'alice' } });
        site.tracerboy.click();
        site.tracerboy.user = 'carol';
        site.tracerboy.click();
        site.tracerboy.click('dave');
        site.tracerboy.click(42);
        await browser.advance(1_000);
        const users = browser.requests.flatMap(r => r.lines.map(l => l.user));
        const stored = JSON.parse(browser.storage.getItem('tracerboy:user'));
        assert.match(stored, UUID7);
        assert.deepEqual(users, [stored, stored, 'alice', 'carol', 'dave', '42']);
    });

test('refuses a user the server would refuse, with a warning, and queues nothing', async () => {
    const browser = new Browser();
    const page = browser.open();
    for (const user of ['', 'x'.repeat(257), 'a\0b', '\ud800', 'é'.repeat(129)]) {
        assert.equal(page.tracerboy.click(user), undefined);
    }
    assert.equal(page.warnings.length, 5);
    assert.equal(page.warnings[2], 'tracerboy: user: expected 1 to 256 bytes of UTF-8 without NUL, found "a\\u0000b"');
    assert.match(page.tracerboy.click('é'.repeat(128)), UUID7, '256 bytes of UTF-8 is allowed');
    await browser.advance(1_000);
    assert.deepEqual(browser.requests.flatMap(r => r.lines.map(l => l.user)), ['é'.repeat(128)]);
});

test('resends the very same lines after a 503, no sooner than its Retry-After in seconds', async () => {
    const browser = new Browser();
    const answers = [{ status: 503, headers: { 'Retry-After': '5' } }, answer(200)];
    browser.respond = () => answers.shift();
    const page = browser.open();
    page.tracerboy.click('alice');
    page.tracerboy.impression('bob');
    await browser.advance(1_000);
    assert.equal(browser.requests.length, 1);
    await browser.advance(4_999);
    assert.equal(browser.requests.length, 1, 'Retry-After: 5 is honoured over the 1 s backoff');
    await browser.advance(1);
    assert.equal(browser.requests.length, 2);
    assert.equal(browser.requests[1].body, browser.requests[0].body, 'same timestamps, users and ids, same order');
    assert.deepEqual(browser.storage.queues(), {});
});

test('honours a Retry-After given as an HTTP date', async () => {
    const browser = new Browser();
    const answers = [{ status: 429, headers: { 'Retry-After': new Date(START_MS + 1_000 + 7_000).toUTCString() } }];
    browser.respond = () => answers.shift() || answer(200);
    browser.open().tracerboy.click('alice');
    await browser.advance(1_000 + 6_999);
    assert.equal(browser.requests.length, 1);
    await browser.advance(1);
    assert.equal(browser.requests.length, 2);
});

test('backs off 1, 2, 4 … up to 60 s, with a jitter that adds at most half the delay', async () => {
    for (const [random, factor] of [[0, 1], [0.5, 1.25], [0.999, 1.4995]]) {
        const browser = new Browser();
        browser.random = random;
        browser.respond = () => answer(503);
        browser.open().tracerboy.click('alice');
        await browser.advance(10 * 60_000);
        const expected = [1, 2, 4, 8, 16, 32, 60, 60, 60].map(s => s * 1_000 * factor);
        const gaps = gapsMs(browser.requests).slice(0, 9);
        assert.equal(gaps.length, 9);
        gaps.forEach((gap, i) => assert.ok(Math.abs(gap - expected[i]) < 0.01,
            `with Math.random() = ${random}: ${gaps} instead of ${expected}`));
        assert.equal(new Set(browser.requests.map(r => r.body)).size, 1, 'every try sends the same line');
    }
});

test('starts the backoff again from 1 s after an acknowledged request', async () => {
    const browser = new Browser();
    const answers = [503, 503, 503, 200, 503, 200].map(answer);
    browser.respond = () => answers.shift();
    const page = browser.open();
    page.tracerboy.click('alice');
    await browser.advance(1_000 + 1_000 + 2_000 + 4_000);
    assert.equal(browser.requests.length, 4);
    page.tracerboy.click('bob');
    await browser.advance(1_000 + 1_000);
    assert.deepEqual(gapsMs(browser.requests), [1_000, 2_000, 4_000, 1_000, 1_000]);
});

test('retries 408, 429, 5xx and network errors with the same events', async () => {
    for (const failure of [408, 429, 500, 502, 503, 504, 'network']) {
        const browser = new Browser();
        const answers = [failure === 'network' ? 'network' : answer(failure), answer(200)];
        browser.respond = () => answers.shift();
        const page = browser.open();
        page.tracerboy.click('alice');
        await browser.advance(60_000);
        assert.equal(browser.requests.length, 2, 'retried after ' + failure);
        assert.equal(browser.requests[1].body, browser.requests[0].body);
        assert.deepEqual(browser.storage.queues(), {});
        assert.deepEqual(page.warnings, []);
    }
});

test('drops a batch refused with another 4xx, warning with the status and whatever the body says', async () => {
    const refusals = [
        [400, '{"invalid":1,"errors":[{"line":1,"error":"event: expected click or impression, found \'x\'"}]}\n'],
        [403, 'Origin: expected an origin in CORS_ALLOWED_ORIGINS, found \'https://evil.example\'\n'],
        [413, '{"error":"MAX_BATCH_EVENTS: expected at most 10 events, found 11"}\n'],
        [415, '{"error":"Content-Type: expected application/x-ndjson, found text/plain"}\n'],
    ];
    for (const [status, body] of refusals) {
        const browser = new Browser();
        browser.respond = () => ({ status, body });
        const page = browser.open();
        page.tracerboy.click('alice');
        page.tracerboy.click('bob');
        await browser.advance(10 * 60_000);
        assert.equal(browser.requests.length, 1, status + ' is not retried');
        assert.deepEqual(page.warnings, ['tracerboy: dropped 2 events refused with ' + status + ': ' + body.trim()]);
        assert.deepEqual(browser.storage.queues(), {});
    }
});

test('keeps at most 1 000 events, dropping the oldest with a warning', async () => {
    const browser = new Browser();
    browser.respond = () => 'hang';
    const page = browser.open();
    const ids = [];
    for (let i = 0; i < 1_005; i++) ids.push(page.tracerboy.click('u' + i));
    assert.deepEqual(browser.storage.queuedEvents().map(e => e.id), ids.slice(5));
    assert.deepEqual(page.warnings, Array(5).fill('tracerboy: queue full: dropped the 1 oldest events'));
});

test('on pagehide sends the queue by sendBeacon within 64 KB, keeps it, and the next page resends it unchanged',
    async () => {
        const browser = new Browser();
        browser.respond = () => answer(503);
        const page = browser.open({ data: { user: 'é'.repeat(100) } }); // 200 bytes of UTF-8 in 100 characters
        const ids = [];
        for (let i = 0; i < 400; i++) ids.push(page.tracerboy.click());
        await browser.advance(0);
        page.leave();
        assert.equal(browser.beacons.length, 1);
        const [beacon] = browser.beacons;
        assert.equal(beacon.url, 'https://t.example/analytics/batch');
        const beaconBytes = Buffer.byteLength(beacon.body);
        assert.ok(beaconBytes <= BEACON_BUDGET_BYTES && beaconBytes > BEACON_BUDGET_BYTES * 0.8, beaconBytes + ' bytes');
        assert.deepEqual(beacon.lines.map(l => l.id), ids.slice(0, beacon.lines.length), 'oldest first');
        assert.deepEqual(browser.storage.queuedEvents().map(e => e.id), ids, 'all kept: a beacon has no answer');

        browser.respond = () => answer(200);
        await browser.advance(1_000);
        browser.open();
        await browser.advance(10_000);
        const resent = browser.requests.filter(r => r.page !== page).flatMap(r => r.lines);
        assert.deepEqual(resent.map(l => l.id), ids);
        assert.deepEqual(resent.slice(0, beacon.lines.length), beacon.lines, 'the beaconed lines, byte for byte');
        assert.deepEqual(browser.storage.queues(), {});
    });

test('beacons an event once per page: visibilitychange then pagehide send nothing twice', async () => {
    const browser = new Browser();
    browser.respond = () => 'hang';
    const page = browser.open();
    const first = page.tracerboy.click('alice');
    page.hide();
    page.fire('pagehide', { persisted: false });
    assert.deepEqual(browser.beacons.map(b => b.lines.map(l => l.id)), [[first]]);
    const late = page.tracerboy.click('alice');
    assert.deepEqual(browser.beacons.map(b => b.lines.map(l => l.id)), [[first], [late]],
        'an event recorded after pagehide goes by beacon at once');
});

test('a page left as Chromium leaves it, pagehide before visibilitychange, frees its queue for the next page at once',
    async () => {
        // The HTML standard's unload steps fire pagehide, then make the document hidden: WebsiteIT saw Chromium do it.
        const browser = new Browser();
        const a = browser.open();
        const id = a.tracerboy.click('a');
        a.fire('pagehide', { persisted: false });
        a.hide();
        a.kill();
        assert.deepEqual(browser.beacons.map(b => b.lines.map(l => l.id)), [[id]], 'beaconed once');
        assert.deepEqual(Object.values(browser.storage.queues()).map(x => x.t), [0], 'marked as left');
        const b = browser.open();
        await browser.advance(1_000);
        assert.deepEqual(browser.requests.filter(r => r.page === b).map(r => r.lines.map(l => l.id)), [[id]],
            'not 5 minutes later');
        assert.deepEqual(browser.storage.queues(), {});
    });

test('a hidden page that lives on resends its beaconed events by fetch until one is acknowledged', async () => {
    const browser = new Browser();
    const page = browser.open();
    const id = page.tracerboy.click('alice');
    page.hide();
    assert.equal(browser.beacons.length, 1);
    await browser.advance(1_000);
    assert.deepEqual(browser.requests.map(r => r.lines.map(l => l.id)), [[id]]);
    assert.deepEqual(browser.storage.queues(), {});
});

test('uses fetch with keepalive where there is no sendBeacon', async () => {
    const browser = new Browser();
    browser.respond = () => 'hang';
    const page = browser.open({ beacon: false });
    const id = page.tracerboy.click('alice');
    page.leave();
    assert.equal(browser.requests.length, 1);
    assert.equal(browser.requests[0].options.keepalive, true);
    assert.deepEqual(browser.requests[0].lines.map(l => l.id), [id]);
});

test('two live tabs each send only their own queue, and a tab that left is taken over by the other', async () => {
    const browser = new Browser();
    browser.respond = () => answer(503);
    const a = browser.open();
    const b = browser.open();
    const fromA = a.tracerboy.click('a');
    await browser.advance(10);
    const fromB = b.tracerboy.click('b');
    await browser.advance(20 * 60_000);
    const sentBy = tab => new Set(browser.requests.filter(r => r.page === tab).flatMap(r => r.lines.map(l => l.id)));
    assert.deepEqual(sentBy(a), new Set([fromA]), 'twenty minutes of retries: no queue sent by both tabs');
    assert.deepEqual(sentBy(b), new Set([fromB]));
    assert.equal(Object.keys(browser.storage.queues()).length, 2);

    a.leave();
    browser.respond = () => answer(200);
    const before = browser.requests.length;
    await browser.advance(2 * 60_000);
    const after = browser.requests.slice(before);
    assert.ok(after.every(r => r.page === b));
    assert.deepEqual(after[0].lines.map(l => l.id), [fromA, fromB], 'in the order recorded, the adopted first');
    assert.deepEqual(browser.storage.queues(), {});
});

test('a request that fails after pagehide leaves the queue free for the next page to take at once', async () => {
    const browser = new Browser();
    browser.respond = () => 'later';
    const a = browser.open();
    const id = a.tracerboy.click('a');
    await browser.advance(1_000);
    a.leave();
    browser.requests[0].fail(new TypeError('Failed to fetch'));
    await browser.advance(0);
    browser.respond = () => answer(200);
    const b = browser.open();
    await browser.advance(1_000);
    assert.deepEqual(browser.requests.filter(r => r.page === b).map(r => r.lines.map(l => l.id)), [[id]],
        'not 5 minutes later');
});

test('the queue of a tab that stopped without pagehide is taken over 5 minutes after its last write', async () => {
    const browser = new Browser();
    browser.respond = () => 'hang';
    const a = browser.open();
    const id = a.tracerboy.click('a');
    await browser.advance(1_000);
    a.kill();
    browser.respond = () => answer(503);
    const b = browser.open();
    b.tracerboy.click('b');
    await browser.advance(5 * 60_000 - 1_000);
    assert.ok(!browser.requests.some(r => r.page === b && r.lines.some(l => l.id === id)), 'not before 5 minutes');
    browser.respond = () => answer(200);
    await browser.advance(2 * 60_000);
    assert.ok(browser.requests.some(r => r.page === b && r.lines.some(l => l.id === id)));
    assert.deepEqual(browser.storage.queues(), {});
});

test('a page restored from the back-forward cache does not resend what another page took over', async () => {
    const browser = new Browser();
    const a = browser.open();
    const taken = a.tracerboy.click('a');
    a.freeze();
    const b = browser.open();
    await browser.advance(1_000);
    assert.deepEqual(browser.requests.map(r => [r.page, r.lines.map(l => l.id)]), [[b, [taken]]]);
    assert.deepEqual(browser.storage.queues(), {});
    a.thaw();
    await browser.advance(60_000);
    assert.equal(browser.requests.length, 1, 'the restored page sends nothing again');
    const id = a.tracerboy.click('a');
    assert.equal(browser.beacons.length, 1, 'restored: back to fetch, not beacons');
    await browser.advance(1_000);
    assert.deepEqual(browser.requests.slice(1).map(r => [r.page, r.lines.map(l => l.id)]), [[a, [id]]]);
});

test('a page restored from the back-forward cache goes on with its queue when no other page took it', async () => {
    const browser = new Browser();
    const a = browser.open();
    const id = a.tracerboy.click('a');
    a.freeze();
    await browser.advance(5_000);
    a.thaw();
    await browser.advance(1_000);
    assert.deepEqual(browser.requests.map(r => [r.page, r.lines.map(l => l.id)]), [[a, [id]]]);
    assert.deepEqual(browser.storage.queues(), {});
});

test('past the event-id window an event that may have arrived is dropped with a warning, one never sent is sent',
    async () => {
        const browser = new Browser();
        browser.respond = () => answer(503);
        const a = browser.open();
        const beaconed = a.tracerboy.click('a');
        a.leave();
        browser.respond = () => answer(200);
        browser.nowMs = START_MS - START_MS % HOUR_MS + 24 * HOUR_MS - 1_001;
        const b = browser.open();
        b.tracerboy.impression('b');
        await browser.advance(1_000);
        const sent = browser.requests.filter(r => r.page === b).flatMap(r => r.lines.map(l => l.id));
        assert.deepEqual(sent.slice(0, 1), [beaconed], 'resent until the 24th hour after its hour began');
        assert.deepEqual(b.warnings, []);

        for (const failure of ['network', 500, 504]) {
            const other = new Browser();
            other.respond = () => failure === 'network' ? 'network' : answer(failure);
            const maybe = other.open();
            const uncertain = maybe.tracerboy.click('m');
            await other.advance(1_000);
            maybe.kill();
            other.nowMs = START_MS - START_MS % HOUR_MS + 24 * HOUR_MS - 1_000;
            other.respond = () => answer(200);
            const later = other.open();
            await other.advance(1_000);
            const sentLater = other.requests.filter(r => r.page === later).flatMap(r => r.lines.map(l => l.id));
            assert.deepEqual(sentLater, [], 'after ' + failure + ' (it may have been counted): not resent at 10:00');
            assert.deepEqual(later.warnings,
                ['tracerboy: dropped 1 events sent but not acknowledged within the event-id window']);
            assert.ok(!other.storage.queuedEvents().some(e => e.id === uncertain));
        }

        const c = browser.open();
        const beaconedToo = c.tracerboy.click('c');
        c.leave();
        const never = browser.open({ data: { idWindowHours: '2' } });
        const refusals = [503, 429, 408].map(answer);
        browser.respond = () => refusals.shift() || 'hang';
        const neverToo = never.tracerboy.click('c');
        await browser.advance(1_000 + 1_000 + 2_000 + 4_000);
        assert.equal(browser.requests.filter(r => r.page === never).length, 4, 'refused three times, then hung');
        never.kill();
        browser.nowMs += 2 * HOUR_MS;
        browser.respond = () => answer(200);
        const d = browser.open({ data: { idWindowHours: '2' } });
        d.tracerboy.impression('d');
        await browser.advance(1_000);
        const sentByD = browser.requests.filter(r => r.page === d).flatMap(r => r.lines.map(l => l.id));
        assert.ok(!sentByD.includes(beaconedToo), 'a beaconed event past the window is not resent');
        assert.ok(sentByD.includes(neverToo), 'an event only ever refused with 503, 429 or 408 is sent, however old');
        assert.deepEqual(d.warnings, ['tracerboy: dropped 1 events sent but not acknowledged within the event-id window']);
    });

test('tries again at once when the browser is back online', async () => {
    const browser = new Browser();
    browser.respond = () => 'network';
    const page = browser.open();
    page.tracerboy.click('alice');
    await browser.advance(1_000 + 1_000 + 2_000 + 4_000 + 8_000 + 16_000);
    const tries = browser.requests.length;
    assert.equal(tries, 6);
    browser.respond = () => answer(200);
    page.fire('online');
    await browser.advance(1_000);
    assert.equal(browser.requests.length, tries + 1, 'sent after the linger, not after the 32 s backoff');
    assert.deepEqual(browser.storage.queues(), {});
});

test('works from memory, with one anonymous user per page, when localStorage is refused', async () => {
    const browser = new Browser();
    const page = browser.open({ storage: false });
    page.tracerboy.click();
    page.tracerboy.impression();
    await browser.advance(1_000);
    const users = browser.requests.flatMap(r => r.lines.map(l => l.user));
    assert.equal(users.length, 2);
    assert.match(users[0], UUID7);
    assert.equal(users[1], users[0]);
});

test('loads once: a second copy of the script on the page changes nothing', () => {
    const browser = new Browser();
    const page = browser.open();
    const api = page.tracerboy;
    vm.runInContext(SOURCE, page.context);
    assert.equal(page.context.tracerboy, api);
});
