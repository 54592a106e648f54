import { defineConfig } from "vite";

// `base: "./"` keeps every asset path relative, so dist/ works both when a
// node serves it at `/` and when opened from any static server or sub-path.
export default defineConfig({
  base: "./",
  build: { target: "es2022", sourcemap: true, chunkSizeWarningLimit: 2048 },
  worker: { format: "es" },
  // The wasm-bindgen glue finds its .wasm with `new URL(..., import.meta.url)`;
  // pre-bundling would move the glue away from the .wasm file.
  optimizeDeps: { exclude: ["torpeer"] },
});
