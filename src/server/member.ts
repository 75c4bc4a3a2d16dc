// One etcd-ts member: owns the client gRPC server and, as the layers land, the
// Raft node, the WAL, the MVCC store and the peer transport. start() brings it
// up; stop() takes it down in the reverse order.
import type { MemberConfig } from '../cli/config';
import type { Logger } from '../log';
import { ClientServer } from '../api/grpc-server';

export class Member {
  private clientServer: ClientServer | undefined;
  private stopped = false;

  constructor(
    readonly config: MemberConfig,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.clientServer = new ClientServer({
      listenUrls: this.config.listenClientUrls,
      maxRequestBytes: this.config.maxRequestBytes,
      handlers: {},
      isServing: () => !this.stopped,
      logger: this.logger,
    });
    await this.clientServer.start();
    this.logger.info({ advertiseClientUrls: this.config.advertiseClientUrls }, 'member started');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.clientServer?.stop();
    this.logger.info('member stopped');
  }
}
