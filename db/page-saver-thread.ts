/**
 * The page saver's thread (db/page-saver.ts ThreadPageSaver): receives decided pages as bytes,
 * stores each in its own transaction on connections of its own (PageSaves: in order per fetch
 * call), and answers with what was stored or why not. 'close' finishes the saves under way,
 * closes the pool and ends the thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  PageSaves,
  pageFromMessage,
  replyError,
  saverPool,
  type SaveMessage,
  type SaveReply,
  type SaverThreadData,
} from './page-saver';

const port = parentPort;
if (!port) throw new Error('db/page-saver-thread runs as a worker thread (ThreadPageSaver starts it)');

const pool = saverPool(workerData as SaverThreadData);
const saves = new PageSaves(pool);
const running = new Set<Promise<void>>();

port.on('message', (message: SaveMessage | 'close') => {
  if (message === 'close') {
    void Promise.all([...running])
      .then(() => pool.end())
      .finally(() => port.close());
    return;
  }
  const job = pageFromMessage(message);
  const answered = saves.save(job).then(
    (saved) => {
      // Committed: every byte was sent and taken, so the memory can go back. Never after a
      // failure: a broken connection's socket may still be reading it.
      const memory = [job.page.lines.ownMemory(), job.page.charges.ownMemory()].filter(
        (m): m is ArrayBuffer => m !== null,
      );
      port.postMessage({ id: message.id, saved, memory } satisfies SaveReply, memory);
    },
    (err: unknown) => port.postMessage({ id: message.id, error: replyError(err) } satisfies SaveReply),
  );
  running.add(answered);
  void answered.finally(() => running.delete(answered));
});
