// The joining side of a Members query: a member started with
// --initial-cluster-state=existing and an empty data dir asks a running
// member, on its peer URL, for the cluster id and member list (as etcd asks
// GET /members), to learn the id MemberAdd gave it.
import net from 'node:net';
import { ConnKind, decodeValue, encodeHello } from './codec';
import { FrameDecoder, FrameType, encodeFrame } from './frame';
import { parsePeerUrl } from './url';

export function queryMembers(peerUrl: string, timeoutMs: number): Promise<unknown> {
  const { host, port } = parsePeerUrl(peerUrl);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const fail = (err: Error): void => {
      sock.destroy();
      reject(err);
    };
    sock.setTimeout(timeoutMs, () => fail(new Error(`no answer from ${peerUrl} within ${timeoutMs} ms`)));
    sock.on('error', fail);
    const decoder = new FrameDecoder((type, payload) => {
      if (type === FrameType.HelloOk) {
        sock.destroy();
        resolve(decodeValue(payload));
      } else fail(new Error(`${peerUrl} refused the members query`));
    });
    sock.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (e) {
        fail(e as Error);
      }
    });
    sock.on('close', () => reject(new Error(`${peerUrl} closed the connection without an answer`)));
    sock.on('connect', () => sock.write(encodeFrame(FrameType.Hello, encodeHello({ clusterId: '', from: '', to: '', kind: ConnKind.Members }))));
  });
}
