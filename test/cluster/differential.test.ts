// The same script of KV operations against a fresh real etcd (Debian's 3.4) and a
// fresh 3-member etcd-ts cluster: every answer, success or error, must be equal
// apart from the ids and terms in the headers.
import { describe, expect, it } from 'vitest';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { call, differentialPair, kvClient } from '../support/cluster';
import { normalizeAnswer } from '../support/normalize';
import { mulberry32 } from '../../src/raft/prng';

type Step = [method: 'Range' | 'Put' | 'DeleteRange' | 'Txn' | 'Compact', req: object];
const b = (s: string): Buffer => Buffer.from(s);

const fixed: Step[] = [
  ['Put', { key: b('a'), value: b('1') }],
  ['Put', { key: b('a'), value: b('2'), prev_kv: true }],
  ['Put', { key: b('b'), value: b('x') }],
  ['Put', { key: b('c'), value: b('y'), prev_kv: true }],
  ['Range', { key: b('a') }],
  ['Range', { key: b('a'), range_end: b('z') }],
  ['Range', { key: b('a'), range_end: b('z'), limit: 2 }],
  ['Range', { key: b('\0'), range_end: b('\0'), sort_order: 'DESCEND', sort_target: 'VALUE' }],
  ['Range', { key: b('a'), range_end: b('\0'), sort_target: 'MOD' }],
  ['Range', { key: b('a'), range_end: b('z'), keys_only: true }],
  ['Range', { key: b('a'), range_end: b('z'), count_only: true }],
  ['Range', { key: b('a'), range_end: b('z'), min_mod_revision: 3 }],
  ['Range', { key: b('a'), range_end: b('z'), max_create_revision: 2, limit: 1 }],
  ['Range', { key: b('a'), revision: 2 }],
  ['Range', { key: b('a'), revision: 100 }],
  ['Range', { key: b('z'), range_end: b('a') }],
  ['Range', { key: b('') }],
  ['Put', { key: b(''), value: b('v') }],
  ['Put', { key: b('nokey'), ignore_value: true }],
  ['Put', { key: b('a'), value: b('v'), ignore_value: true }],
  ['Put', { key: b('a'), ignore_value: true, prev_kv: true }],
  ['Put', { key: b('a'), lease: 5, ignore_lease: true }],
  ['DeleteRange', { key: b('nothing') }],
  ['DeleteRange', { key: b('b'), prev_kv: true }],
  ['DeleteRange', { key: b(''), range_end: b('z') }],
  ['Put', { key: b('b'), value: b('again') }],
  ['Range', { key: b('b') }],
  ['Txn', { compare: [{ key: b('a'), target: 'VALUE', result: 'EQUAL', value: b('2') }], success: [{ request_put: { key: b('a'), value: b('3') } }], failure: [] }],
  ['Txn', { compare: [{ key: b('a'), target: 'VALUE', result: 'EQUAL', value: b('2') }], success: [], failure: [{ request_range: { key: b('a') } }] }],
  ['Txn', { compare: [{ key: b('missing'), target: 'CREATE', result: 'EQUAL', create_revision: 0 }], success: [{ request_put: { key: b('missing'), value: b('m') } }, { request_range: { key: b('missing') } }], failure: [] }],
  ['Txn', { compare: [{ key: b('a'), range_end: b('c'), target: 'VERSION', result: 'GREATER', version: 0 }], success: [{ request_delete_range: { key: b('missing'), prev_kv: true } }], failure: [] }],
  ['Txn', { compare: [{ key: b('a'), target: 'MOD', result: 'LESS', mod_revision: 1000 }, { key: b('b'), target: 'LEASE', result: 'EQUAL', lease: 0 }], success: [{ request_txn: { compare: [], success: [{ request_put: { key: b('n1'), value: b('1') } }], failure: [] } }, { request_put: { key: b('n2'), value: b('2') } }], failure: [] }],
  ['Txn', { compare: [], success: [{ request_put: { key: b('d'), value: b('1') } }, { request_put: { key: b('d'), value: b('2') } }], failure: [] }],
  ['Txn', { compare: [], success: [{ request_put: { key: b('d1'), value: b('1') } }, { request_delete_range: { key: b('d0'), range_end: b('d2') } }], failure: [] }],
  ['Txn', { compare: [], success: [{}], failure: [] }],
  ['Txn', { compare: [{ key: b(''), target: 'VALUE', result: 'EQUAL', value: b('') }], success: [], failure: [] }],
  ['Txn', { compare: [], success: Array.from({ length: 129 }, (_, i) => ({ request_range: { key: b(`k${i}`) } })), failure: [] }],
  ['Txn', { compare: [{ key: b('a'), target: 'VALUE', result: 'NOT_EQUAL', value: b('3') }], success: [], failure: [] }],
  ['Txn', { compare: [], success: [{ request_range: { key: b('a'), revision: 1000 } }], failure: [] }],
  ['Compact', { revision: 5 }],
  ['Compact', { revision: 5 }],
  ['Compact', { revision: 4 }],
  ['Compact', { revision: 100000 }],
  ['Range', { key: b('a'), revision: 4 }],
  ['Range', { key: b('a'), revision: 5 }],
  ['Range', { key: b('\0'), range_end: b('\0') }],
];

/** A seeded tail of random operations over a small key space, to reach corners the list misses. */
function randomSteps(seed: number, n: number): Step[] {
  const rnd = mulberry32(seed);
  const key = (): Buffer => b(`r${Math.floor(rnd() * 6)}`);
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    const p = rnd();
    if (p < 0.35) steps.push(['Put', { key: key(), value: b(`v${i}`), prev_kv: rnd() < 0.5 }]);
    else if (p < 0.5) steps.push(['DeleteRange', { key: key(), range_end: rnd() < 0.3 ? b('r4') : b(''), prev_kv: rnd() < 0.5 }]);
    else if (p < 0.75) steps.push(['Range', { key: b('r'), range_end: b('s'), limit: Math.floor(rnd() * 4), revision: rnd() < 0.3 ? Math.floor(rnd() * 80) : 0, sort_order: rnd() < 0.5 ? 'DESCEND' : 'NONE', sort_target: rnd() < 0.5 ? 'VERSION' : 'KEY' }]);
    else if (p < 0.95) {
      const k = key();
      steps.push(['Txn', {
        compare: [{ key: k, target: 'VERSION', result: rnd() < 0.5 ? 'GREATER' : 'EQUAL', version: Math.floor(rnd() * 3) }],
        success: [{ request_put: { key: k, value: b(`t${i}`), prev_kv: true } }, { request_range: { key: b('r'), range_end: b('s') } }],
        failure: [{ request_delete_range: { key: key(), prev_kv: true } }],
      }]);
    } else steps.push(['Compact', { revision: Math.floor(rnd() * 80) + 1 }]);
  }
  return steps;
}

/** Ids and terms of the top-level header differ between clusters; nested headers in txn responses are compared whole. */
const normalize = (v: unknown): unknown => normalizeAnswer(v);

async function runScript(endpoints: string[], steps: Step[]): Promise<unknown[]> {
  const clients = endpoints.map((ep) => kvClient(ep));
  const out: unknown[] = [];
  for (const [i, [method, req]] of steps.entries()) {
    const c = clients[i % clients.length]!;
    try {
      out.push(normalize(await call(c, method, req, 10_000)));
    } catch (e) {
      const err = e as grpc.ServiceError;
      out.push({ error: { code: err.code, details: err.details } });
    }
  }
  return out;
}

/**
 * One unary call by hand, to see the frames' headers: the answer's header names,
 * and every grpc-* header or trailer with its value (the rest differ by server).
 */
function rawShape(endpoint: string, path: string, message: Buffer): Promise<{ headers: string[]; grpc: string[] }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(endpoint.startsWith('http') ? endpoint : `http://${endpoint}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const out = { headers: [] as string[], grpc: [] as string[] };
    const note = (h: http2.IncomingHttpHeaders): void => {
      for (const [k, v] of Object.entries(h)) if (k.startsWith('grpc-')) out.grpc.push(`${k}=${String(v)}`);
    };
    req.on('response', (h) => {
      out.headers = Object.keys(h).sort();
      note(h);
    });
    req.on('trailers', note);
    req.on('data', () => undefined);
    req.on('close', () => {
      session.close();
      out.grpc.sort();
      resolve(out);
    });
    const framed = Buffer.alloc(5 + message.length);
    framed.writeUInt32BE(message.length, 1);
    message.copy(framed, 5);
    req.end(framed);
  });
}

const pair = differentialPair(1, 3);
const etcdBin = pair.etcdBin;

describe('differential: etcd-ts against real etcd', () => {
  it('frames an answer and an error with the headers and trailers etcd sends', async () => {
    if (!etcdBin) return;
    const cases: Array<[string, Buffer]> = [
      ['/etcdserverpb.KV/Range', Buffer.from([0x0a, 0x01, 0x61])], // key "a": an answer
      ['/etcdserverpb.KV/Put', Buffer.from([0x12, 0x01, 0x76])], // no key: an error, trailers only
    ];
    for (const [path, msg] of cases) {
      const [want, got] = await Promise.all([rawShape(pair.real!.endpoints[0]!, path, msg), rawShape(pair.ets!.endpoints[0]!, path, msg)]);
      expect(got, path).toEqual(want);
    }
  });

  it('answers a fixed script and a seeded random one exactly as etcd does', async () => {
    if (!etcdBin) return;
    const steps = [...fixed, ...randomSteps(7, 150)];
    const [want, got] = await Promise.all([runScript(pair.real!.endpoints, steps), runScript(pair.ets!.endpoints, steps)]);
    for (let i = 0; i < steps.length; i++) {
      if (process.env["DIFF_DEBUG"] && JSON.stringify(got[i]) !== JSON.stringify(want[i])) console.log(i, JSON.stringify(want[i]), "\n GOT", JSON.stringify(got[i]));
      if (!process.env["DIFF_DEBUG"]) expect(got[i], `step ${i}: ${steps[i]![0]} ${JSON.stringify(normalize(steps[i]![1])).slice(0, 300)}`).toEqual(want[i]);
    }
  });
});
