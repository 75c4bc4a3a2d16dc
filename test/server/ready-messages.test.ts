import { describe, expect, it } from 'vitest';
import { orderMessages } from '../../src/server/ready-messages';
import { type Entry, EntryType, type Message, MessageType, type Ready } from '../../src/raft/types';

const entry = (index: number): Entry => ({ term: 2, index, type: EntryType.Normal, data: new Uint8Array(1) });

function msg(type: MessageType, to: string, entries: Entry[] = []): Message {
  return { type, to, from: 'a', term: 2, logTerm: 2, index: 5, entries, commit: 6, reject: false, rejectHint: 0, context: new Uint8Array(0) };
}

function ready(messages: Message[], committed: Entry[]): Ready {
  return { readStates: [], entries: [], committedEntries: committed, messages, mustSync: false };
}

const types = (ms: Message[]) => ms.map((m) => `${MessageType[m.type]}>${m.to}${m.entries.length ? '+' : ''}`);

describe('orderMessages', () => {
  it("holds a leader's commit-only appends until the Ready's answers are written", () => {
    const o = orderMessages(
      ready([msg(MessageType.App, 'b'), msg(MessageType.App, 'c', [entry(7)]), msg(MessageType.Heartbeat, 'c'), msg(MessageType.App, 'c')], [entry(6)]),
      true,
    );
    expect(types(o.now)).toEqual(['App>c+', 'Heartbeat>c']);
    expect(types(o.afterAnswers)).toEqual(['App>b', 'App>c']);
    expect(o.later).toEqual([]);
  });

  it('sends them at once when the Ready applies nothing (no answers to wait for)', () => {
    const o = orderMessages(ready([msg(MessageType.App, 'b'), msg(MessageType.Snap, 'c')], []), true);
    expect(types(o.now)).toEqual(['App>b']);
    expect(types(o.later)).toEqual(['Snap>c']);
    expect(o.afterAnswers).toEqual([]);
  });

  it("lets a follower's forwarded requests go before its write, and its acknowledgements after", () => {
    const o = orderMessages(ready([msg(MessageType.AppResp, 'a'), msg(MessageType.Prop, 'a', [entry(0)]), msg(MessageType.ReadIndex, 'a'), msg(MessageType.App, 'a')], [entry(6)]), false);
    expect(types(o.now)).toEqual(['Prop>a+', 'ReadIndex>a']);
    expect(types(o.later)).toEqual(['AppResp>a', 'App>a']);
    expect(o.afterAnswers).toEqual([]);
  });
});
