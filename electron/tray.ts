import { join } from 'node:path';
import { Menu, Tray, nativeImage, type NativeImage } from 'electron';
import { toMenuTemplate, type TrayAction, type TrayIconState, type TrayModel } from './tray-menu.ts';

/**
 * The thin Electron side of the tray: icon, tooltip and menu from a TrayModel.
 * All decisions are in tray-menu.ts; this only draws them.
 */

export interface TrayControllerOptions {
  /** Folder with tray-<state>.png and tray-<state>@2x.png. */
  iconDir: string;
  onAction: (action: TrayAction) => void;
  /** A left click on Windows, where the convention is to open the app. */
  onClick: () => void;
}

export class TrayController {
  readonly #tray: Tray;
  readonly #icons = new Map<TrayIconState, NativeImage>();
  readonly #options: TrayControllerOptions;
  /** The last model drawn; an identical one is not drawn again (menus flicker on macOS). */
  #drawn = '';

  constructor(options: TrayControllerOptions) {
    this.#options = options;
    for (const state of ['idle', 'active', 'error'] as const) {
      // Electron picks up the @2x file beside it on high-density screens.
      this.#icons.set(state, nativeImage.createFromPath(join(options.iconDir, `tray-${state}.png`)));
    }
    this.#tray = new Tray(this.#icons.get('idle')!);
    if (process.platform === 'win32') this.#tray.on('click', () => options.onClick());
  }

  render(model: TrayModel): void {
    const key = JSON.stringify(model);
    if (key === this.#drawn) return;
    this.#drawn = key;
    this.#tray.setImage(this.#icons.get(model.icon)!);
    this.#tray.setToolTip(model.tooltip);
    this.#tray.setContextMenu(Menu.buildFromTemplate(toMenuTemplate(model.items, this.#options.onAction)));
  }

  destroy(): void {
    this.#tray.destroy();
  }
}
