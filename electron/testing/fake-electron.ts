import { EventEmitter } from 'node:events';

/**
 * A stand-in for the 'electron' module at its boundary, for tests under plain Node
 * (the Electron binary cannot run here). ipcMain, ipcRenderer and a window's
 * webContents are wired to each other the way Electron wires them, including the
 * structured clone on every crossing, which is what strips an Error to its message.
 */

type Handler = (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => unknown;
type RendererListener = (event: object, payload: unknown) => void;

export function createFakeElectron() {
  const handlers = new Map<string, Handler>();
  const rendererListeners = new Map<string, Set<RendererListener>>();
  /** The page the fake renderer pretends to be; tests change it to play an intruder. */
  const state = { senderUrl: 'app://dashboard/index.html', mainWorld: {} as Record<string, unknown> };

  const ipcMain = {
    handle(channel: string, handler: Handler) {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, handler);
    },
    removeHandler(channel: string) {
      handlers.delete(channel);
    },
  };

  const ipcRenderer = {
    async invoke(channel: string, ...args: unknown[]) {
      const handler = handlers.get(channel);
      if (!handler) throw new Error(`Error invoking remote method '${channel}': Error: No handler registered for '${channel}'`);
      const result = await handler({ senderFrame: { url: state.senderUrl } }, ...structuredClone(args));
      return structuredClone(result);
    },
    on(channel: string, listener: RendererListener) {
      if (!rendererListeners.has(channel)) rendererListeners.set(channel, new Set());
      rendererListeners.get(channel)!.add(listener);
    },
    removeListener(channel: string, listener: RendererListener) {
      rendererListeners.get(channel)?.delete(listener);
    },
  };

  class FakeWebContents extends EventEmitter {
    #destroyed = false;
    readonly sent: { channel: string; payload: unknown }[] = [];
    send(channel: string, payload: unknown) {
      if (this.#destroyed) throw new Error('Object has been destroyed');
      this.sent.push({ channel, payload });
      for (const l of rendererListeners.get(channel) ?? []) l({}, structuredClone(payload));
    }
    isDestroyed() {
      return this.#destroyed;
    }
    destroy() {
      this.#destroyed = true;
      this.emit('destroyed');
    }
  }

  const contextBridge = {
    /** Like Electron: the function travels as source text and runs in another world. */
    executeInMainWorld({ func, args = [] }: { func: (...a: unknown[]) => unknown; args?: unknown[] }) {
      const rebuilt = new Function(`return (${func.toString()})`)() as (...a: unknown[]) => unknown;
      return rebuilt(...args, state.mainWorld);
    },
    exposeInMainWorld() {
      throw new Error('The preload is expected to use executeInMainWorld');
    },
  };

  /** What the app shows the person: windows, notifications, the tray, the clipboard. */
  const shown = {
    windows: [] as FakeBrowserWindow[],
    notifications: [] as { title: string; body: string; click: () => void }[],
    clipboard: [] as string[],
    tray: null as FakeTray | null,
    openedExternally: [] as string[],
  };
  const appEvents = new EventEmitter();
  const loginItem = { openAtLogin: false, wasOpenedAtLogin: false, args: [] as string[] };
  let quitCalls = 0;

  const app = Object.assign(appEvents, {
    getVersion: () => '1.2.3',
    getAppPath: () => '/app',
    isPackaged: true,
    quit: () => void quitCalls++,
    get quitCalls() {
      return quitCalls;
    },
    dock: { hidden: false, hide() { this.hidden = true; }, async show() { this.hidden = false; } },
    getLoginItemSettings: () => ({ ...loginItem }),
    setLoginItemSettings: (s: { openAtLogin: boolean; args?: string[] }) => void Object.assign(loginItem, s),
  });

  class FakeBrowserWindow extends EventEmitter {
    readonly webContents = new FakeWebContents();
    readonly loaded: string[] = [];
    focused = false;
    visible = false;
    #destroyed = false;
    constructor(readonly options: { webPreferences?: Record<string, unknown> }) {
      super();
      shown.windows.push(this);
    }
    async loadURL(url: string) {
      this.loaded.push(url);
      this.emit('ready-to-show');
    }
    /** Like Electron, showing a window also focuses it. */
    show() { this.visible = true; this.focused = true; }
    focus() { this.focused = true; }
    isFocused() { return this.focused; }
    isMinimized() { return false; }
    restore() {}
    isDestroyed() { return this.#destroyed; }
    /** What the person's click on the close button leads to. */
    close() {
      this.#destroyed = true;
      this.webContents.destroy();
      this.emit('closed');
    }
  }

  class FakeNotification {
    static isSupported = () => true;
    readonly #events = new EventEmitter();
    constructor(readonly content: { title: string; body: string }) {}
    on(event: string, listener: () => void) { this.#events.on(event, listener); return this; }
    show() { shown.notifications.push({ ...this.content, click: () => this.#events.emit('click') }); }
  }

  interface MenuTemplateItem { label?: string; click?: () => void; submenu?: MenuTemplateItem[] }
  class FakeTray extends EventEmitter {
    image: unknown = null;
    tooltip = '';
    menu: MenuTemplateItem[] = [];
    destroyed = false;
    constructor(image: unknown) { super(); this.image = image; shown.tray = this; }
    setImage(image: unknown) { this.image = image; }
    setToolTip(text: string) { this.tooltip = text; }
    setContextMenu(menu: { template: MenuTemplateItem[] }) { this.menu = menu.template; }
    destroy() { this.destroyed = true; }
    /** Clicks the menu item whose label starts with `prefix`. */
    click(prefix: string) {
      const item = this.menu.find((i) => i.label?.startsWith(prefix));
      if (!item?.click) throw new Error(`No clickable tray item ${prefix}`);
      item.click();
    }
  }

  const electronApis = {
    app,
    BrowserWindow: FakeBrowserWindow,
    Notification: FakeNotification,
    Tray: FakeTray,
    Menu: { buildFromTemplate: (template: MenuTemplateItem[]) => ({ template }) },
    nativeImage: { createFromPath: (path: string) => ({ path }) },
    clipboard: { writeText: (text: string) => void shown.clipboard.push(text) },
    protocol: { handle: () => undefined, registerSchemesAsPrivileged: () => undefined },
    session: {
      defaultSession: { setPermissionRequestHandler: () => undefined, setPermissionCheckHandler: () => undefined, setDevicePermissionHandler: () => undefined },
    },
    shell: { openExternal: async (url: string) => void shown.openedExternally.push(url) },
    dialog: { showErrorBox: () => undefined },
  };

  return { ipcMain, ipcRenderer, contextBridge, FakeWebContents, handlers, rendererListeners, state, shown, ...electronApis };
}

export type FakeElectron = ReturnType<typeof createFakeElectron>;
