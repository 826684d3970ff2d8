import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { engine } from './pipeline/engine';
import { snapshot } from './state/store';
import './styles.css';

declare global {
  interface Window {
    /** Test hook (see the UI contract): a JSON snapshot of the store, and engine readiness. */
    __segarena?: { getState: typeof snapshot; ready: Promise<void>; loseDevice: () => void };
  }
}

window.__segarena = { getState: snapshot, ready: engine.ready, loseDevice: () => engine.loseDevice() };

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
