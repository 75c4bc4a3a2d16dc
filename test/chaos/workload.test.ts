import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GRPCDeadlineExceededError, GRPCInvalidArgumentError, GRPCUnavailableError, GRPCResourceExhastedError } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { History } from './history';
import { checkHistory } from './linearizability';
import type { InjectedFault } from './nemesis';
import { buildReport, formatReport, reportHtml } from './report';
import { freePorts } from '../support/ports';
import { classifyError, finalReads, makeClient, runWorkload } from './workload';

describe('classifyError', () => {
  it('fails only what certainly did not happen', () => {
    expect(classifyError(new GRPCInvalidArgumentError('etcdserver: key is not provided'))).toBe('fail');
    expect(classifyError(new GRPCResourceExhastedError('etcdserver: too many requests'))).toBe('fail');
    expect(classifyError(new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED'))).toBe('fail');
    expect(classifyError(new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: no leader'))).toBe('fail');
    expect(classifyError(new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: request timed out'))).toBe('unknown');
    expect(classifyError(new GRPCUnavailableError('14 UNAVAILABLE: etcdserver: leader changed'))).toBe('unknown');
    expect(classifyError(new GRPCUnavailableError('14 UNAVAILABLE: Connection dropped'))).toBe('unknown');
    expect(classifyError(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'))).toBe('unknown');
    expect(classifyError(new Error('client-side guard: no answer within 2000 ms'))).toBe('unknown');
    expect(classifyError('a string')).toBe('unknown');
  });
});

const ETCD = '/usr/bin/etcd';
// Ports picked once per file (a restart must reuse them). They used to be fixed
// (42100/42101), which failed when another checkout ran the same test at once.
let CLIENT = '';
let PEER = '';

/** One real etcd member on free loopback ports with a throw-away data dir. */
class EtcdMember {
  proc: ChildProcess | null = null;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-etcd-'));

  async start(): Promise<void> {
    if (CLIENT === '') {
      const [client, peer] = await freePorts(2);
      CLIENT = `http://127.0.0.1:${client}`;
      PEER = `http://127.0.0.1:${peer}`;
    }
    const log = fs.openSync(path.join(this.dir, 'etcd.log'), 'a');
    this.proc = spawn(
      ETCD,
      [
        '--name=m1',
        `--data-dir=${path.join(this.dir, 'data')}`,
        `--listen-client-urls=${CLIENT}`,
        `--advertise-client-urls=${CLIENT}`,
        `--listen-peer-urls=${PEER}`,
        `--initial-advertise-peer-urls=${PEER}`,
        `--initial-cluster=m1=${PEER}`,
      ],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    const client = makeClient([CLIENT], 500);
    try {
      for (let i = 0; i < 100; i++) {
        try {
          await client.get('ready-probe').string();
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw new Error(`etcd did not become ready; see ${this.dir}/etcd.log`);
    } finally {
      client.close();
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGCONT');
    p.kill('SIGKILL');
    await exited;
    this.proc = null;
  }

  async destroy(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!fs.existsSync(ETCD))('workload against a real etcd 3.4 member', () => {
  const members: EtcdMember[] = [];
  afterAll(async () => {
    for (const m of members) await m.destroy();
  });

  it('records a linearizable history in a quiet run', async () => {
    const m = new EtcdMember();
    members.push(m);
    await m.start();
    const { ops } = await runWorkload({ endpoints: [CLIENT], clients: 4, keys: ['q/a', 'q/b', 'q/c'], durationMs: 2500, seed: 7 });
    await m.destroy();
    const check = checkHistory(ops);
    const report = buildReport(ops, [], check);
    expect(check.verdict, formatReport(report)).toBe('ok');
    expect(report.operations.byOutcome.ok).toBeGreaterThan(50);
    expect(ops.some((o) => o.kind === 'cas' && o.output?.succeeded === true)).toBe(true);
    expect(ops.some((o) => o.kind === 'get' && typeof o.output?.value === 'string')).toBe(true);
  });

  it('stays linearizable through SIGSTOP and SIGKILL with restart, with unknown outcomes', async () => {
    const m = new EtcdMember();
    members.push(m);
    await m.start();
    const history = new History();
    const faults: InjectedFault[] = [];
    const nemesis = (async () => {
      await sleep(1000);
      const pause: InjectedFault = { fault: { id: 0, kind: 'pause', start: 1000, stop: 2000, target: { role: 'leader' } }, kind: 'pause', start: history.now(), stop: NaN, members: ['m1'] };
      m.signal('SIGSTOP');
      await sleep(1000);
      m.signal('SIGCONT');
      pause.stop = history.now();
      faults.push(pause);
      await sleep(800);
      const kill: InjectedFault = { fault: { id: 1, kind: 'kill-leader', start: 2800, stop: 3300, target: { role: 'leader' } }, kind: 'kill-leader', start: history.now(), stop: NaN, members: ['m1'] };
      await m.kill();
      await sleep(500);
      await m.start();
      kill.stop = history.now();
      faults.push(kill);
    })();
    await runWorkload({ endpoints: [CLIENT], clients: 4, keys: ['f/a', 'f/b'], durationMs: 5500, opTimeoutMs: 400, seed: 11, history });
    await nemesis;
    // After healing, read every key once: a lost acknowledged write would contradict it.
    const last = await finalReads([CLIENT], ['f/a', 'f/b'], history);
    expect(last.map((o) => o.outcome)).toEqual(['ok', 'ok']);
    const ops = history.operations();
    await m.destroy();
    const check = checkHistory(ops);
    const report = buildReport(ops, faults, check);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-report-'));
    fs.writeFileSync(path.join(dir, 'report.html'), reportHtml(report, ops, faults, 'etcd 3.4.23, one member: SIGSTOP then SIGKILL'));
    process.stdout.write(`${formatReport(report)}\nreport: ${dir}/report.html\n`);
    expect(check.verdict, formatReport(report)).toBe('ok');
    expect(report.operations.byOutcome.unknown + report.operations.byOutcome.fail).toBeGreaterThan(0);
    expect(report.recovery.leaderKills).toBe(1);
    expect(report.recovery.neverRecovered).toBe(0);
  });
});
