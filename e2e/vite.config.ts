import { defineConfig, mergeConfig } from 'vite';
import base from '../vite.config';

/**
 * The app's Vite config with hot reload off, for the end-to-end tests: a file saved while
 * a test runs (by a developer working beside the tests) must not reload the page under it.
 * Changes are still picked up on the next navigation.
 */
export default mergeConfig(base, defineConfig({ server: { hmr: false } }));
