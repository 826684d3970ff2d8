import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { engine } from './pipeline/engine';
import { snapshot, useStore } from './state/store';
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
    };
  }
}

window.__segarena = { getState: snapshot, ready: engine.ready, loseDevice: () => engine.loseDevice() };
if (import.meta.env.DEV) window.__segarena.store = useStore;
installGlobalErrorHandlers();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppBoundary>
      <App />
    </AppBoundary>
  </StrictMode>,
);
