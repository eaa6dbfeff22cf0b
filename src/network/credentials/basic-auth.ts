/** `Authorization: Basic base64(user:password)`: where a placeholder may stand inside a header value, encoded. */
export const BASIC = /^(Basic\s+)([A-Za-z0-9+/]+={0,2})$/i;

/** The user:password of a Basic authorization value, or undefined. */
export function decodeBasic(value: string): string | undefined {
  const m = BASIC.exec(value);
  return m?.[2] === undefined ? undefined : Buffer.from(m[2], 'base64').toString('latin1');
}
