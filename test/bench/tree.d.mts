/** See tree.mjs. */
export function generateTree(root: string, dirs: number, options?: { fanout?: number; files?: number }): string[];
