import { open } from 'node:fs/promises';

/** Reads exactly `bytes` bytes from the start of a file: the part the engine says is complete. */
export async function readExactly(path: string, bytes: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    let off = 0;
    while (off < bytes) {
      const { bytesRead } = await fh.read(buf, off, bytes - off, off);
      if (bytesRead === 0) throw new Error(`${path} holds ${off} bytes, fewer than the ${bytes} to ship`);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}
