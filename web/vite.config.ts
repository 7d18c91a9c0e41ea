import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

// One build into web/dist: the app (index.html and hashed assets), then, through vite-plugin-pwa's
// injectManifest strategy, the service worker as one classic script at /sw.js (a fixed name and scope `/`;
// no modules, so that every browser with Web Push can run it) with the list of files to precache injected
// (ADR 012). The manifest and icons are our own files in public/; the app registers the worker itself.
export default defineConfig({
  root: import.meta.dirname,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  plugins: [
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      injectRegister: false,
      manifest: false,
      injectManifest: {
        rollupFormat: 'iife',
        // The whole shell: a first visit installs everything a later offline start needs.
        globPatterns: ['**/*.{html,js,css,svg,png,webmanifest}'],
      },
    }),
  ],
});
