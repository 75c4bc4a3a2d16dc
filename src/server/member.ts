// One etcd-ts member: opens its data dir, starts Raft over the WAL, the peer
// transport, the MVCC store and the client gRPC server, and takes them down in
// the reverse order. The pieces meet only here.
import { randomBytes } from 'node:crypto';
import type { Level } from 'level';
import type { MemberConfig } from '../cli/config';
import { urlString } from '../cli/config';
import type { Logger } from '../log';
import { ClientServer } from '../api/grpc-server';
import { kvHandlers, kvService } from '../api/kv';
import { clusterService } from '../api/cluster';
import { maintenanceService } from '../api/maintenance';
import { watchService } from '../api/watch';
import { GRPC_OVERHEAD_BYTES } from '../api/grpc-server';
import { WatchHub } from '../watch/hub';
import { leaseService } from '../api/lease';
import { LeaderClient } from '../api/leader-client';
import { Lessor } from '../lease/lessor';
import { LeaseServer } from './lease-server';
import { Errors } from '../errors';
import { RawNode } from '../raft/rawnode';
import { NONE } from '../raft/types';
import { RejectReason, Transport } from '../transport';
import type { Wal } from '../wal';
import type { MvccStore } from '../mvcc/store';
import { Applier } from './applier';
import { EtcdServer } from './etcd-server';
import type { Membership } from './membership';
import { tickConfig } from './ticks';
import { RaftDriver } from './raft-driver';
import { ReadIndexBatcher } from './read-index';
import { openMemberState } from './storage-open';
import type { LogPreallocator } from '../storage/log-prealloc';
import { WaitRegistry } from './wait';
import { AlarmStore } from './alarms';
import { BackendQuota, MAX_QUOTA_BYTES, quotaBytes } from './quota';
import { dbPath } from './storage-open';
import { maintenanceView } from './maintenance-view';
import { ClusterChanges } from './cluster-changes';
import type { MembersAnswer } from './join';
import { LeaderRequirement } from '../api/require-leader';
import { AuthStore } from '../auth/auth-store';
import { AuthGate } from '../auth/auth-gate';
import { authService } from '../api/auth';
import { promoteOnLeader } from '../api/forward-promote';

/**
 * How soon a member retries announcing itself after a failed attempt. Short: its
 * clients wait on it, and an attempt without a leader fails without any work.
 */
const PUBLISH_RETRY_MS = 100;

export class Member {
  private clientServer: ClientServer | undefined;
  private transport: Transport | undefined;
  private driver: RaftDriver | undefined;
  private reads: ReadIndexBatcher | undefined;
  private waits: WaitRegistry | undefined;
  private db: Level<Buffer, Buffer> | undefined;
  private walDb: Level<Buffer, Buffer> | undefined;
  private prealloc: LogPreallocator | undefined;
  private wal: Wal | undefined;
  private store: MvccStore | undefined;
  private publishTimer: NodeJS.Timeout | undefined;
  private watchHub: WatchHub | undefined;
  private leaseServer: LeaseServer | undefined;
  private leaderRequirement: LeaderRequirement | undefined;
  private stopped = false;
  private removed = false;
  /** Whether this start's publish entry is applied (clients are served from then on). */
  private ready = false;
  /** Called when the member must stop on its own (a fatal storage error). */
  onFatal: (err: Error) => void = () => undefined;
  /** Called once a conf change removed this member from the cluster (etcd then exits). */
  onRemoved: () => void = () => undefined;

  constructor(
    readonly config: MemberConfig,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const cfg = this.config;
    const state = await openMemberState(cfg, this.logger);
    this.db = state.db;
    this.walDb = state.walDb;
    this.prealloc = state.prealloc;
    this.wal = state.wal;
    this.store = state.store;
    const { memberId, clusterId, membership, store, storage } = state;
    const log = this.logger.child({ memberId });

    const ticks = tickConfig(cfg.heartbeatMs, cfg.electionMs);
    const node = new RawNode({
      id: memberId,
      electionTick: ticks.electionTick,
      heartbeatTick: ticks.heartbeatTick,
      storage,
      // Raft re-delivers everything after its snapshot: the store skips what it
      // already holds, and conf changes rebuild Raft's own configuration.
      applied: storage.snapshot().metadata.index,
      maxSizePerMsg: 1024 * 1024,
      // Apply at most ~1 MiB of entries per Ready (etcd's default, = maxSizePerMsg),
      // so a long backlog (a restart replaying its log) is applied in slices and
      // ticks and heartbeats keep their timing in between.
      maxCommittedSizePerReady: 1024 * 1024,
      maxInflightMsgs: 512,
      checkQuorum: true,
      preVote: true,
      readOnlyOption: 'safe',
      deferCommitBroadcast: true,
      leaderPersistedNotice: true,
      rand: randomBytes(4).readUInt32BE(0),
    });
    // A joining member's log, conf changes included, comes from the leader.
    if (state.fresh && !state.joining) node.bootstrap(membership.ids());

    this.transport = new Transport({
      selfId: memberId,
      clusterId,
      listenUrls: cfg.listenPeerUrls.map(urlString),
      logger: log,
      members: (): MembersAnswer => ({ clusterId, members: membership.list() }),
    });
    for (const m of membership.list()) if (m.id !== memberId) this.transport.addPeer(m.id, this.dialUrls(m.peerUrls));
    this.transport.onRejected((peer, reason) => {
      if (reason === RejectReason.Removed) this.removedFromCluster({ refusedBy: peer });
    });

    const waits = (this.waits = new WaitRegistry(memberId));
    const requestTimeoutMs = 5000 + 2 * cfg.electionMs;
    let driver: RaftDriver;
    const reads = (this.reads = new ReadIndexBatcher({
      requestReadIndex: (ctx) => driver.withNode((n) => n.readIndex(ctx)),
      appliedIndex: () => driver.appliedIndex,
      leader: () => driver.leader,
      timeoutMs: requestTimeoutMs,
      retryMs: 500,
    }));
    const lessor = new Lessor(store);
    const alarms = new AlarmStore(store);
    const auth = new AuthStore(store);
    const authGate = new AuthGate(auth, () => driver.appliedIndex);
    const applier = new Applier(node, store, membership, waits, log, lessor, alarms, auth);
    let leaseServer: LeaseServer;
    driver = this.driver = new RaftDriver(node, storage, state.wal, this.transport, store, membership, applier, {
      ticks,
      snapshotCount: cfg.snapshotCount,
      logger: log,
      hooks: {
        onLeaderChange: () => {
          reads.onLeaderChange();
          // Proposals made under the old leader may or may not commit under the new
          // one: tell their clients now, with etcd's ambiguous error, instead of
          // letting them wait out the full request timeout.
          waits.failAll(Errors.TimeoutDueToLeaderFail);
          leaseServer.onLeaderChange();
        },
        onApplied: (applied) => reads.onApplied(applied),
        onReadState: (ctx, index) => reads.onReadState(ctx, index),
        onMembershipChanged: () => this.syncPeers(membership, memberId),
        onFatal: (err) => {
          log.fatal({ err }, 'fatal error in the Raft loop; stopping');
          this.onFatal(err);
        },
      },
    });
    const quota = quotaBytes(cfg.quotaBackendBytes);
    if (quota !== Infinity && quota > MAX_QUOTA_BYTES) log.warn({ quotaBytes: quota, maxQuotaBytes: MAX_QUOTA_BYTES }, 'quota exceeds the maximum value');
    const server = new EtcdServer(memberId, clusterId, store, driver, reads, waits, {
      maxRequestBytes: cfg.maxRequestBytes,
      requestTimeoutMs,
      quota: new BackendQuota(quota, () => store.dbSize()),
    });

    leaseServer = this.leaseServer = new LeaseServer(server, lessor, driver, membership, {
      // etcd: minTTL = ceil(1.5 x election timeout), so a lease outlives an election.
      minTtl: Math.ceil((1.5 * cfg.electionMs) / 1000),
      promoteExtendMs: cfg.electionMs,
      dial: (target) => new LeaderClient(target),
      requestTimeoutMs,
      logger: log,
    });
    leaseServer.start();
    await this.transport.start();
    const hub = (this.watchHub = new WatchHub(store, { progressIntervalMs: cfg.watchProgressNotifyMs }));
    hub.start();
    driver.start();

    // Clients are answered only once this start's publish entry is applied: its
    // index is above everything committed before the restart, so nothing served
    // from then on (a header revision, a watch's start) can be older than what this
    // member served in an earlier life. That is when etcd's ReadyNotify fires.
    const ready = this.publish(server, memberId);
    const isLearner = (): boolean => membership.get(memberId)?.isLearner ?? false;
    this.leaderRequirement = new LeaderRequirement(() => driver.leader !== NONE, cfg.electionMs);
    this.leaderRequirement.start();
    const kv = kvHandlers(server, { maxTxnOps: cfg.maxTxnOps, isLearner, auth: authGate });
    this.clientServer = new ClientServer({
      listenUrls: cfg.listenClientUrls,
      maxRequestBytes: cfg.maxRequestBytes,
      fast: { KV: kv },
      handlers: {
        KV: kvService(kv),
        Lease: leaseService(leaseServer, () => server.header(), authGate),
        Watch: watchService({
          hub,
          header: () => server.header(),
          maxResponseBytes: cfg.maxRequestBytes + GRPC_OVERHEAD_BYTES,
          // Nothing to check (and no await) without a token while auth is off.
          authorize: (token, key, end) => (token === undefined && !auth.enabled ? undefined : authGate.watchRefusal(token, key, end)),
        }),
        Cluster: clusterService({
          header: () => server.header(),
          members: () => membership.list(),
          changes: this.clusterChanges(server, driver, membership, requestTimeoutMs),
          requireAdmin: (token) => authGate.requireAdmin(token),
        }),
        Auth: authService({
          header: () => server.header(),
          gate: authGate,
          propose: async (op, who) => (await server.propose(who ? { kind: 'auth', op, who } : { kind: 'auth', op })) as Record<string, unknown>,
        }),
        Maintenance: maintenanceService(
          maintenanceView({
            server, driver, store, lessor, alarms, membership, isLearner, db: state.db, dbDir: dbPath(cfg.dataDir),
            heartbeatMs: cfg.heartbeatMs, requestTimeoutMs, logger: log, requireAdmin: (token) => authGate.requireAdminRaw(token),
          }),
        ),
      },
      isLearner,
      leaderRequirement: this.leaderRequirement,
      isServing: () => this.ready && !this.stopped,
      ready,
      logger: log,
    });
    await this.clientServer.start();
    log.info({ clusterId, advertiseClientUrls: cfg.advertiseClientUrls }, 'member started');
  }

  /**
   * Announces this member's name and client URLs through Raft, on every start as
   * etcd does, retrying until this member has applied the entry; settles then.
   */
  private publish(server: EtcdServer, memberId: string): Promise<void> {
    const attrs = { name: this.config.name, clientUrls: this.config.advertiseClientUrls };
    return new Promise<void>((resolve) => {
      const attempt = (): void => {
        if (this.stopped) return;
        server.propose({ kind: 'publish', memberId, attrs }).then(
          () => {
            this.ready = true;
            this.logger.info({ clientUrls: attrs.clientUrls }, 'published member attributes; serving clients');
            resolve();
          },
          () => {
            this.publishTimer = setTimeout(attempt, PUBLISH_RETRY_MS);
          },
        );
      };
      attempt();
    });
  }

  private clusterChanges(server: EtcdServer, driver: RaftDriver, membership: Membership, timeoutMs: number): ClusterChanges {
    return new ClusterChanges({
      selfId: server.memberId,
      membership,
      status: () => driver.withNode((n) => n.status()),
      activeSince: (id) => this.transport?.activeSince(id),
      propose: (type, member, promote) => server.proposeConfChange(type, member, promote),
      forwardPromote: async (id, token) => {
        const url = driver.leader === NONE ? undefined : membership.get(driver.leader)?.clientUrls[0];
        if (!url) throw Errors.NoLeader;
        return promoteOnLeader(new URL(url).host, id, timeoutMs, token);
      },
    });
  }

  /** A conf change removed this member: it applied the change, or a peer refused it as removed. */
  private removedFromCluster(how: object): void {
    if (this.stopped || this.removed) return;
    this.removed = true;
    this.logger.warn(how, 'this member has been permanently removed from the cluster; stopping');
    this.onRemoved();
  }

  /** Brings the peer transport in line with the member list; stops this member if it was removed. */
  private syncPeers(membership: Membership, self: string): void {
    if (!membership.get(self)) return this.removedFromCluster({ applied: true });
    // updatePeer adds a new member and redials only when URLs changed: publishing attributes never redials.
    for (const m of membership.list()) if (m.id !== self) this.transport?.updatePeer(m.id, this.dialUrls(m.peerUrls));
    for (const id of this.transport?.peerIds() ?? []) if (!membership.get(id)) this.transport?.removePeer(id);
  }

  /** Where to connect for a peer's advertised URLs (a test proxy may stand in between). */
  private dialUrls(urls: string[]): string[] {
    return urls.map((u) => this.config.peerUrlOverrides.get(u) ?? u);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.leaderRequirement?.stop();
    await this.clientServer?.stop(1000);
    this.watchHub?.stop();
    this.leaseServer?.stop();
    this.driver?.stop();
    this.reads?.failAll(Errors.Stopped);
    this.waits?.failAll(Errors.Stopped);
    await this.transport?.stop();
    await this.driver?.snapshotsPersisted();
    await this.wal?.flush().catch(() => undefined);
    await this.store?.close().catch(() => undefined);
    this.prealloc?.close();
    await this.db?.close().catch(() => undefined);
    await this.walDb?.close().catch(() => undefined);
    this.logger.info('member stopped');
  }
}
