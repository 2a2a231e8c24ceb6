// The identity of a configuration text, as stored in status.configPush.hash.
import { createHash } from 'node:crypto';

/** `sha256:<hex>` of the text's UTF-8 bytes. */
export function configHash(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}
