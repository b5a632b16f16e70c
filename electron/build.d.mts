/** Types for build.mjs (plain JavaScript so `node electron/build.mjs` needs no loader). */
export declare function buildElectron(options?: { outdir?: string; minify?: boolean }): Promise<{ main: string; preload: string }>;
