/**
 * Buffer#latin1Write / #utf8Write: what Buffer#write(text, offset, encoding) calls after normalising
 * its arguments (about a third of the cost of a short write). Present on Buffer.prototype in every
 * Node version we support but not in the typings; Buffer#write is the fallback.
 */
export type EncodeAt = (this: Buffer, text: string, offset: number) => number;
const proto = Buffer.prototype as unknown as { latin1Write?: EncodeAt; utf8Write?: EncodeAt };
export const latin1At: EncodeAt =
  typeof proto.latin1Write === 'function' ? proto.latin1Write : function (this: Buffer, text, offset) {
    return this.write(text, offset, 'latin1');
  };
export const utf8At: EncodeAt =
  typeof proto.utf8Write === 'function' ? proto.utf8Write : function (this: Buffer, text, offset) {
    return this.write(text, offset, 'utf8');
  };
