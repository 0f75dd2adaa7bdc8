import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { access, chmod, copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigError, type Sink, type SinkBatch, type SinkFile, type SinkWriteResult } from '@querytrail/core';
import { optionalString, requireObject, sinkName } from '../common/settings.js';

export interface FileSinkOptions {
  /** The archive directory (another disk, a mount the app's operators cannot rewrite, ...). Created if missing. */
  dir: string;
  /** Cursor name. Default 'file'. */
  name?: string;
  /** Make archived files read-only (0444). Default true. */
  readOnly?: boolean;
}

/**
 * Archives sealed segments and checkpoint snapshots to another directory, under their journal names,
 * so `querytrail verify <archive>` works on it directly. Every file is written to a temporary name,
 * fsync'd, made read-only and renamed into place (then the directory is fsync'd). A segment already
 * archived is never overwritten: an identical resend is accepted, a different one is refused.
 */
export function fileSink(options: FileSinkOptions): Sink {
  const o = requireObject(options, 'file');
  const dirSetting = optionalString(o, 'dir', 'file');
  if (dirSetting === undefined) throw new ConfigError('file.dir', 'required: the archive directory');
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') throw new ConfigError('file.readOnly', 'expected true or false');
  const dir = resolve(dirSetting);
  const readOnly = o.readOnly !== false;
  const name = sinkName(o, 'file', 'file');

  const archive = async (f: SinkFile): Promise<void> => {
    const target = join(dir, f.name);
    const existing = await stat(target).catch(() => undefined);
    if (existing) {
      if (f.kind === 'segment') {
        if (existing.size === f.bytes && (await digest(target, f.bytes)) === (await digest(f.path, f.bytes))) return; // a resend
        throw new Error(`the archive already holds a different ${f.name}: refusing to overwrite evidence`);
      }
      // Checkpoint snapshots only grow: the archived one must be a prefix of the new one (or the other way round for a late resend).
      const shorter = Math.min(existing.size, f.bytes);
      if ((await digest(target, shorter)) !== (await digest(f.path, shorter))) {
        throw new Error(`the archived ${f.name} is not a prefix of the journal's: refusing to overwrite evidence`);
      }
      if (existing.size >= f.bytes) return;
    }
    const tmp = join(dir, `.${f.name}.${process.pid}.tmp`);
    try {
      await copyFile(f.path, tmp);
      const fh = await open(tmp, 'r+');
      try {
        if ((await fh.stat()).size !== f.bytes) await fh.truncate(f.bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (readOnly) await chmod(tmp, 0o444);
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  };

  return {
    name,
    accepts: 'files',
    async start() {
      try {
        await mkdir(dir, { recursive: true });
        await access(dir, constants.W_OK);
      } catch (err) {
        throw new ConfigError('file.dir', `cannot write to the archive directory ${dir}: ${(err as Error).message}`, { cause: err });
      }
    },
    async write(batch: SinkBatch): Promise<SinkWriteResult> {
      if (batch.type !== 'files') return {};
      const failed: number[] = [];
      let lastError: unknown;
      for (const [i, f] of batch.files.entries()) {
        try {
          await archive(f);
        } catch (err) {
          failed.push(i);
          lastError = err;
        }
      }
      if (failed.length === batch.files.length && lastError !== undefined) throw lastError;
      if (failed.length < batch.files.length) await syncDir(dir);
      return failed.length > 0 ? { failed } : {};
    },
    async flush() {},
    async close() {},
  };
}

/** The renames are durable only once the directory is. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** SHA-256 of a file's first `bytes` bytes, streamed. */
async function digest(path: string, bytes: number): Promise<string> {
  const h = createHash('sha256');
  if (bytes > 0) {
    for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 })) h.update(chunk as Buffer);
  }
  return h.digest('hex');
}
