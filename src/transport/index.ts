// Public surface of the member-to-member transport.
//
// How the server uses it:
//   const t = new Transport({ selfId, clusterId, listenUrls, logger });
//   t.onMessage((m) => raft.step(m));
//   t.onUnreachable((id) => raft.reportUnreachable(id));
//   t.onSnapshotStatus((id, ok) => raft.reportSnapshot(id, ok ? 'finish' : 'failure'));
//   t.onRejected((id, reason) => { if (reason === RejectReason.Removed) stopMember(); });
//   await t.start();
//   for (const m of members) t.addPeer(m.id, m.peerUrls);    // also on ConfChange add/update/remove
//   per Ready: t.send(ready.messages)                       // never blocks; MsgSnap goes on its own connection
//   t.activeSince(id)                                       // Date the stream became active, or undefined
//   await t.stop();
// Incoming connections are accepted only from members added with addPeer and
// never from removed ones or another cluster id.
export { Transport, RejectReason, type TransportOptions, type MessageHandler, type PeerHandler, type SnapshotStatusHandler, type RejectedHandler } from './transport';
export type { StreamStats } from './stream';
export { parsePeerUrl, type HostPort } from './url';
