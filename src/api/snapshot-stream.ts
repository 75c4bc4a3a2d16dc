// Maintenance.Snapshot: the member's backend file streamed in 32 KiB blobs,
// each telling how many bytes remain, then one last message whose blob is the
// SHA-256 of everything sent. etcdctl appends that digest to the file it saves,
// and `etcdctl snapshot restore` checks it. The answers carry no header, as in
// etcd 3.4.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import type * as grpc from '@grpc/grpc-js';
import type { SnapshotFile } from '../snapshot/snapshot-file';
import { streamError } from './unary';

const BLOB_BYTES = 32 * 1024;

export function snapshotHandler(open: (call: grpc.ServerWritableStream<unknown, unknown>) => Promise<SnapshotFile>): grpc.handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    void (async () => {
      let snap: SnapshotFile | undefined;
      try {
        snap = await open(call);
        const fh = await fs.open(snap.path, 'r');
        try {
          const sha = createHash('sha256');
          const buf = Buffer.alloc(BLOB_BYTES);
          for (let sent = 0; sent < snap.size && !call.cancelled; ) {
            const { bytesRead } = await fh.read(buf, 0, Math.min(BLOB_BYTES, snap.size - sent), sent);
            if (bytesRead === 0) throw new Error(`snapshot file ended at ${sent} of ${snap.size} bytes`);
            const blob = Buffer.from(buf.subarray(0, bytesRead));
            sha.update(blob);
            sent += bytesRead;
            if (!call.write({ remaining_bytes: snap.size - sent, blob })) await Promise.race([once(call, 'drain'), once(call, 'cancelled')]);
          }
          if (!call.cancelled) {
            call.write({ remaining_bytes: 0, blob: sha.digest() });
            call.end();
          }
        } finally {
          await fh.close();
        }
      } catch (err) {
        call.emit('error', streamError(err));
      } finally {
        await snap?.dispose();
      }
    })();
  };
}
