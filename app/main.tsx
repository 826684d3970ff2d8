import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { engine } from './pipeline/engine';
import { snapshot, useStore } from './state/store';
import { countStoreWrites, renderCounts, resetRenderCounts } from './state/renderCounts';
import { AppBoundary, installGlobalErrorHandlers } from './ui/ErrorBoundary';
import './styles.css';

declare global {
  interface Window {
    /** Test hook (see the UI contract): a JSON snapshot of the store, and engine readiness. */
    __segarena?: {
      getState: typeof snapshot;
      ready: Promise<void>;
      loseDevice: () => void;
      /** Development server only (e2e fault injection): the store itself. */
      store?: typeof useStore;
      /** Development server only: React commits per component and store writes since the last reset (app/state/renderCounts.ts). */
      renderCounts?: typeof renderCounts;
      resetRenderCounts?: typeof resetRenderCounts;
    };
  }
}

window.__segarena = { getState: snapshot, ready: engine.ready, loseDevice: () => engine.loseDevice() };
if (import.meta.env.DEV) {
  window.__segarena.store = useStore;
  window.__segarena.renderCounts = renderCounts;
  window.__segarena.resetRenderCounts = resetRenderCounts;
  countStoreWrites(useStore);
}
installGlobalErrorHandlers();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppBoundary>
      <App />
    </AppBoundary>
  </StrictMode>,
);
