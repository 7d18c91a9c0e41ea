import { defineConfig } from 'vite';

// Two builds into web/dist: the app (index.html and hashed assets), and with `--mode sw` the service
// worker as one classic script at /sw.js (a fixed name and scope `/`; no shared chunks, no modules,
// so that every browser with Web Push can run it).
export default defineConfig(({ mode }) => ({
  root: import.meta.dirname,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: mode === 'sw'
    ? {
      outDir: 'dist',
      emptyOutDir: false,
      copyPublicDir: false,
      lib: { entry: 'src/sw/sw.ts', formats: ['iife'], name: 'samlarmSw', fileName: () => 'sw.js' },
    }
    : { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
}));
