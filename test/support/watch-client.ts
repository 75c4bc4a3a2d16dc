// A raw Watch stream for tests: every reply kept in arrival order, with
// bounded waits. Lets tests see exactly what etcd's wire protocol says
// (created/canceled replies, watch ids, compact revisions) without a client
// library in between.
import type * as grpc from '@grpc/grpc-js';
import { kvClient } from './cluster';

export interface PbKv {
  key: Buffer;
  value: Buffer;
  mod_revision: string;
  create_revision: string;
  version: string;
  lease: string;
}
export interface PbEvent {
  type: 'PUT' | 'DELETE';
  kv: PbKv;
  prev_kv: PbKv | null;
}
export interface PbWatchResponse {
  header: { revision: string; member_id: string };
  watch_id: string;
  created: boolean;
  canceled: boolean;
  compact_revision: string;
  cancel_reason: string;
  fragment: boolean;
  events: PbEvent[];
}

export class RawWatch {
  readonly replies: PbWatchResponse[] = [];
  error: grpc.ServiceError | undefined;
  private readonly call: grpc.ClientDuplexStream<object, PbWatchResponse>;

  constructor(endpoint: string) {
    const c = kvClient(endpoint, 'Watch') as unknown as { Watch: () => grpc.ClientDuplexStream<object, PbWatchResponse> };
    this.call = c.Watch();
    this.call.on('data', (r: PbWatchResponse) => this.replies.push(r));
    this.call.on('error', (e: grpc.ServiceError) => (this.error = e));
  }

  create(req: object): void {
    this.call.write({ create_request: req });
  }

  cancel(id: number): void {
    this.call.write({ cancel_request: { watch_id: id } });
  }

  progress(): void {
    this.call.write({ progress_request: {} });
  }

  pause(): void {
    this.call.pause();
  }

  resume(): void {
    this.call.resume();
  }

  close(): void {
    this.call.cancel();
  }

  /** Events of one watch id, flattened, as [type, key, mod_revision, value]. */
  events(id?: number): Array<[string, string, number, string]> {
    return this.replies
      .filter((r) => id === undefined || Number(r.watch_id) === id)
      .flatMap((r) => r.events.map((e) => [e.type, e.kv.key.toString(), Number(e.kv.mod_revision), e.kv.value.toString()] as [string, string, number, string]));
  }

  async waitFor(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 100_000 && !cond(); i++) {
      if (Date.now() > deadline) throw new Error(`watch: condition not met within ${timeoutMs} ms (${this.replies.length} replies)`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async waitReplies(n: number, timeoutMs = 15_000): Promise<void> {
    await this.waitFor(() => this.replies.length >= n, timeoutMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
