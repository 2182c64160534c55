/**
 * The worker thread of {@link PackInspector}: it runs {@link inspectPack} on an uploaded file, so
 * that YAML parsing, gunzipping and CRC checks never hold the main thread, which serves every
 * other request. It says when it starts (the time budget counts from then, not from the queue)
 * and answers with the inspected pack or the PackError that refused it, as plain data: errors
 * lose their class and fields crossing threads.
 */
import type { MessagePort } from 'node:worker_threads';
import { isPackError, type ArchiveLimits } from '@packyard/pack-core';
import { inspectPack, type InspectedPack } from './inspect-pack.js';

export interface InspectTask {
  file: string;
  limits: ArchiveLimits;
  blocks?: { blockSize: number; crcs: Uint32Array };
  /** Receives one message when the inspection starts. */
  started: MessagePort;
}

export type InspectReply =
  | { inspected: InspectedPack }
  | { refused: { code: string; message: string; hint: string | undefined; status: number; details: unknown } };

export default async function inspect(task: InspectTask): Promise<InspectReply> {
  task.started.postMessage('started');
  task.started.close();
  try {
    return { inspected: await inspectPack(task.file, task.limits, task.blocks) };
  } catch (err) {
    // Anything else is a bug or a failure of the machine: it crosses as an error (a 500).
    if (!isPackError(err)) throw err;
    const { code, message, hint, status, details } = err;
    return { refused: { code, message, hint, status, details } };
  }
}
