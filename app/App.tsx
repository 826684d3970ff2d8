import { useEffect, useState, type DragEvent } from 'react';
import { engine } from './pipeline/engine';
import { dismissNotice, notify, useStore } from './state/store';
import { useRenderCount } from './state/renderCounts';
import { CatalogPanel } from './ui/CatalogPanel';
import { ClassNamesDialog } from './ui/ClassNamesDialog';
import { PaneBoundary, SectionBoundary } from './ui/ErrorBoundary';
import { MetricsTable } from './ui/MetricsTable';
import { Notices } from './ui/Notices';
import { Pane } from './ui/Pane';
import { SourceBar } from './ui/SourceBar';

/** A dropped or pasted image address is refused above this size (from Content-Length): it would be held in memory whole. */
const MAX_URL_IMAGE_BYTES = 100 * 1024 * 1024;
/** A site that neither answers nor fails is given up on after this long. */
const URL_FETCH_TIMEOUT_MS = 30_000;

/** Opens the first of several dropped or pasted files and says which were left out (one image is the source at a time). */
function openFirstFile(files: File[]): void {
  const [first, ...rest] = files;
  if (!first) return;
  if (rest.length > 0) {
    const names = rest.map((f) => `“${f.name || 'unnamed'}”`).join(', ');
    notify(
      'info',
      `${files.length} files were dropped: opened “${first.name || 'the first'}”, ignored ${names}. One file is opened at a time (to evaluate several images, drop them with their COCO ground-truth .json).`,
    );
  }
  void engine.openFile(first);
}

/** The first http(s) or data: address in a text/uri-list or plain text, or null. */
function imageAddress(text: string): string | null {
  for (const line of text.split(/\r?\n/)) {
    const candidate = line.trim();
    if (!candidate || candidate.startsWith('#')) continue; // text/uri-list comments
    try {
      const url = new URL(candidate);
      if (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'data:') return url.href;
    } catch {
      // not an address
    }
    return null; // only the first entry counts, as for files
  }
  return null;
}

/** The last path segment of an address (its file name), else its host. */
function fileNameOf(url: URL): string {
  const last = url.pathname.split('/').filter(Boolean).pop() ?? '';
  try {
    return decodeURIComponent(last) || url.hostname;
  } catch {
    return last || url.hostname; // a stray % in the address
  }
}

/**
 * Whether the page's Content-Security-Policy lets it fetch the address (connect-src in
 * vite.config.ts): its own origin, https:, data:; the dev server adds http on loopback.
 * A blocked fetch fails without saying why, so the policy is checked before.
 */
function allowedByPolicy(url: URL): boolean {
  if (url.protocol !== 'http:' || url.origin === window.location.origin) return true;
  return import.meta.env.DEV && (url.hostname === 'localhost' || url.hostname === '127.0.0.1');
}

/** Fetches an image address and opens it; when the browser may not read it (CORS) or the site fails, says why. */
async function openImageAddress(address: string): Promise<void> {
  const url = new URL(address);
  const shown = url.protocol === 'data:' ? 'the dropped data: address' : url.href.length > 120 ? `${url.href.slice(0, 117)}…` : url.href;
  const name = url.protocol === 'data:' ? 'dropped image' : fileNameOf(url);
  if (!allowedByPolicy(url)) {
    notify(
      'error',
      `The image at ${shown} could not be loaded: only https:// image addresses can be (a plain http:// one is blocked by this page's security policy); save the image and drop the file.`,
    );
    return;
  }
  const loading = notify('info', `Loading ${shown}…`);
  try {
    let response: Response;
    try {
      response = await fetch(url.href, { mode: 'cors', credentials: 'omit', signal: AbortSignal.timeout(URL_FETCH_TIMEOUT_MS) });
    } catch (err) {
      // A fetch refused by CORS and one that reached no server fail alike (a TypeError, no detail, by design).
      const why =
        err instanceof DOMException && err.name === 'TimeoutError'
          ? `the site did not answer within ${URL_FETCH_TIMEOUT_MS / 1000} s`
          : 'the site does not allow loading its images from another page (or could not be reached)';
      notify('error', `The image at ${shown} could not be loaded: ${why}; save the image and drop the file.`);
      return;
    }
    if (!response.ok) {
      notify(
        'error',
        `The image at ${shown} could not be loaded: the site answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`,
      );
      return;
    }
    const type = response.headers.get('content-type') ?? '';
    if (/^text\/html/i.test(type)) {
      notify(
        'error',
        `${shown} is a web page, not an image: open the image itself (right-click → open image in new tab) and drop that, or save it and drop the file.`,
      );
      return;
    }
    const length = Number(response.headers.get('content-length'));
    if (length > MAX_URL_IMAGE_BYTES) {
      notify(
        'error',
        `The image at ${shown} is ${Math.round(length / 1024 / 1024)} MB; addresses are loaded up to ${MAX_URL_IMAGE_BYTES / 1024 / 1024} MB. Save it and drop the file.`,
      );
      return;
    }
    const blob = await response.blob();
    await engine.openImage(blob, name);
  } catch (err) {
    notify('error', `The image at ${shown} could not be loaded: ${err instanceof Error ? err.message : String(err)}.`);
  } finally {
    dismissNotice(loading);
  }
}

/** Whether a paste goes into a text field (the class-names dialog, a number): then it is the field's, not an image. */
function pastesIntoField(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLInputElement);
}

/** The page: source bar, notices, panes side by side, metrics table. The whole page is a drop zone. */
export function App() {
  const paneKeys = useStore((s) => s.panes.map((p) => p.key).join(','));
  useRenderCount('App');
  const [dragging, setDragging] = useState(false);

  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const files = [...(e.clipboardData?.items ?? [])].filter((i) => i.kind === 'file').flatMap((i) => i.getAsFile() ?? []);
      if (files.length > 0) {
        e.preventDefault();
        openFirstFile(files.map((f) => (f.name ? f : new File([f], 'pasted image', { type: f.type }))));
        return;
      }
      // A copied image address (Copy image address, or the address bar).
      if (pastesIntoField(e.target)) return;
      const address = imageAddress(e.clipboardData?.getData('text/plain') ?? '');
      if (address) {
        e.preventDefault();
        void openImageAddress(address);
      }
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, []);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = [...(e.dataTransfer?.files ?? [])];
    // A COCO ground-truth JSON dropped with its images: evaluate every pane on them.
    const json = files.find((f) => /\.json$/i.test(f.name));
    if (json) {
      void engine.evaluateDropped(
        json,
        files.filter((f) => f !== json),
      );
      return;
    }
    if (files.length > 0) {
      openFirstFile(files);
      return;
    }
    // An image dragged from another page, or a link: its address.
    const text = e.dataTransfer?.getData('text/uri-list') || e.dataTransfer?.getData('text/plain') || '';
    const address = imageAddress(text);
    if (address) void openImageAddress(address);
    else if (text.trim())
      notify('error', 'The dropped text is not an image address: drop an image file, or an image dragged from a page or its http(s) address.');
  };

  const keys = paneKeys ? paneKeys.split(',').map(Number) : [];
  return (
    <div
      className={`app${dragging ? ' dragging' : ''}`}
      data-testid="drop-zone"
      onDragOver={(e) => {
        e.preventDefault();
        if (!dragging) setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <SectionBoundary name="source bar">
        <SourceBar />
      </SectionBoundary>
      <Notices />
      <SectionBoundary name="model catalog">
        <CatalogPanel />
      </SectionBoundary>
      <main className="panes" style={{ gridTemplateColumns: `repeat(${Math.min(Math.max(keys.length, 1), 3)}, minmax(0, 1fr))` }}>
        {keys.map((key, index) => (
          <PaneBoundary key={key} paneKey={key} index={index}>
            <Pane paneKey={key} index={index} />
          </PaneBoundary>
        ))}
      </main>
      <SectionBoundary name="comparison table">
        <MetricsTable />
      </SectionBoundary>
      <SectionBoundary name="class-names dialog">
        <ClassNamesDialog />
      </SectionBoundary>
      {dragging && (
        <div className="drop-hint">
          Drop an image or a video to segment it, an .onnx model to add it, or a COCO ground-truth .json with its images to evaluate the panes
        </div>
      )}
    </div>
  );
}
