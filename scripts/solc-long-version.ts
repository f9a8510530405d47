/**
 * The compiler's long version as Etherscan (and Basescan) name it:
 * `0.8.28+commit.7893614a`. soljson.js reports its build platform too
 * (`0.8.28+commit.7893614a.Emscripten.clang`), which Etherscan's compiler
 * list does not have, so a verification asking for it is refused; the
 * compiler and its output are the same as the native builds'.
 */
export function etherscanLongVersion(longVersion: string): string {
  const match = /^\d+\.\d+\.\d+\+commit\.[0-9a-f]{8}/.exec(longVersion);
  if (!match) throw new Error(`unexpected solc version "${longVersion}": expected <major>.<minor>.<patch>+commit.<8 hex digits>`);
  return match[0];
}
