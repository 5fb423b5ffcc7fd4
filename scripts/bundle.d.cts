// Types of scripts/bundle.cjs (CommonJS, so the synth preload can require it before the app).
import type { BuildOptions, Metafile } from "esbuild";

/** The project root. */
export declare const ROOT: string;
/** The project's esbuild options for bundling `entryPoints` into `outdir`. */
export declare function bundleOptions(entryPoints?: readonly string[], outdir?: string): BuildOptions & { write: false; metafile: true };
/** Runs esbuild with `options`, writes each output by a rename and returns the metafile. */
export declare function writeBundle(options: BuildOptions & { write: false; metafile: true }): Metafile;
/** Builds dist/ and records what it read. */
export declare function build(): void;
/** Builds dist/ unless it is current. */
export declare function ensureBuilt(): void;
