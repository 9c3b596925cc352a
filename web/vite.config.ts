// The dashboard bundle: `npm run build` (or `npm start`, which builds when the bundle is stale).
// During development, `npx vite web` proxies the API and Socket.IO to a server on :8080.
// Besides web/src the bundle takes server/domain (shared types and constants; it imports nothing,
// test/unit/layering.test.ts) — outside this root, inside the repository, which the dev server's
// default `server.fs.allow` (the repository root) already serves.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  publicDir: false,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: {
      '/api': 'http://localhost:8080',
      '/socket.io': { target: 'ws://localhost:8080', ws: true },
    },
  },
});
