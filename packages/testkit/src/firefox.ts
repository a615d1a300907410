/**
 * Debian's Firefox ESR through puppeteer-core over WebDriver BiDi (no
 * geckodriver), set up for the rig (DESIGN.md §5): loopback WebRTC works,
 * and Firefox stays offline — every background service that would phone
 * home (updates, telemetry, studies, remote settings, safe browsing,
 * captive-portal and connectivity checks, push, DoH, prefetching, GMP
 * downloads, OCSP) is off or pointed at a closed port on 127.0.0.1.
 *
 *   const browser = await launchFirefox();
 *   const page = await browser.newPage();
 *
 * With `audit`, Firefox runs under `strace -f` recording every connect/
 * sendto/sendmsg/bind of every Firefox process, so a test can prove that
 * only loopback addresses were contacted ({@link readNetworkAudit} in network-audit.ts).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { assertPrivateNetwork } from './net.js';
import { auditedExecutable } from './network-audit.js';
import { makeTempDir, onCleanup, removeDir } from './process.js';

/** Debian's Firefox ESR (override with BURROW_FIREFOX). */
export function firefoxPath(): string {
  return process.env['BURROW_FIREFOX'] ?? '/usr/bin/firefox-esr';
}

/** True when the Firefox binary is installed. */
export function haveFirefox(): boolean {
  return existsSync(firefoxPath());
}

/** Nothing listens here: anything Firefox would still fetch fails at once, on loopback. */
const NOWHERE = 'http://127.0.0.1:9/';

/**
 * Preferences on top of puppeteer's own (which already turn off the
 * first-run pages, the update check and the crash-restore UI). Grouped by
 * what they keep quiet.
 */
export const FIREFOX_PREFS: Readonly<Record<string, string | number | boolean>> = {
  // WebRTC on loopback (DESIGN.md §5): loopback candidates, real addresses
  // (no mDNS names), and the media permission without a prompt.
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.peerconnection.ice.no_host': false,
  'media.peerconnection.ice.default_address_only': false,
  'permissions.default.microphone': 1,
  'permissions.default.camera': 1,
  'media.navigator.permission.disabled': true,
  'media.navigator.streams.fake': true,

  // Updates (app, add-ons, search engines, GMP plugins, system add-ons).
  'app.update.auto': false,
  'app.update.enabled': false,
  'app.update.service.enabled': false,
  'app.update.staging.enabled': false,
  'app.update.url': NOWHERE,
  'app.update.url.override': NOWHERE,
  'extensions.update.enabled': false,
  'extensions.systemAddon.update.enabled': false,
  'extensions.systemAddon.update.url': NOWHERE,
  'extensions.getAddons.cache.enabled': false,
  'extensions.getAddons.discovery.api_url': NOWHERE,
  'extensions.blocklist.enabled': false,
  'extensions.pocket.enabled': false,
  'browser.search.update': false,
  'browser.search.geoSpecificDefaults': false,
  'browser.search.suggest.enabled': false,
  'media.gmp-manager.updateEnabled': false,
  'media.gmp-manager.url': NOWHERE,
  'media.gmp-gmpopenh264.enabled': false,
  'media.gmp-gmpopenh264.autoupdate': false,
  'media.gmp-widevinecdm.enabled': false,
  'media.gmp-widevinecdm.autoupdate': false,
  'media.eme.enabled': false,

  // Telemetry, health report, crash reports, coverage, ping centre.
  'toolkit.telemetry.enabled': false,
  'toolkit.telemetry.unified': false,
  'toolkit.telemetry.archive.enabled': false,
  'toolkit.telemetry.server': NOWHERE,
  'toolkit.telemetry.newProfilePing.enabled': false,
  'toolkit.telemetry.shutdownPingSender.enabled': false,
  'toolkit.telemetry.firstShutdownPing.enabled': false,
  'toolkit.telemetry.updatePing.enabled': false,
  'toolkit.telemetry.bhrPing.enabled': false,
  'toolkit.telemetry.coverage.opt-out': true,
  'toolkit.coverage.opt-out': true,
  'toolkit.coverage.endpoint.base': NOWHERE,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.usage.uploadEnabled': false,
  'browser.tabs.crashReporting.sendReport': false,
  'breakpad.reportURL': '',
  'browser.ping-centre.telemetry': false,
  'browser.newtabpage.activity-stream.telemetry': false,
  'browser.newtabpage.activity-stream.feeds.telemetry': false,

  // Studies and experiments (Normandy, Nimbus, Shield).
  'app.normandy.enabled': false,
  'app.normandy.api_url': NOWHERE,
  'app.shield.optoutstudies.enabled': false,
  'messaging-system.rsexperimentloader.enabled': false,
  'nimbus.rollouts.enabled': false,

  // Remote settings (honoured by the ESR build only with MOZ_REMOTE_SETTINGS_DEVTOOLS=1 in the env).
  'services.settings.server': `${NOWHERE}v1`,
  'security.remote_settings.crlite_filters.enabled': false,
  'security.remote_settings.intermediates.enabled': false,

  // Safe browsing.
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'browser.safebrowsing.downloads.enabled': false,
  'browser.safebrowsing.downloads.remote.enabled': false,
  'browser.safebrowsing.blockedURIs.enabled': false,
  'browser.safebrowsing.passwords.enabled': false,
  'browser.safebrowsing.provider.google.updateURL': NOWHERE,
  'browser.safebrowsing.provider.google4.updateURL': NOWHERE,
  'browser.safebrowsing.provider.mozilla.updateURL': NOWHERE,

  // Captive portal, connectivity and network-state probes.
  'network.captive-portal-service.enabled': false,
  'captivedetect.canonicalURL': NOWHERE,
  'network.connectivity-service.enabled': false,
  'network.connectivity-service.IPv4.url': NOWHERE,
  'network.connectivity-service.IPv6.url': NOWHERE,

  // Push, sync, accounts, region/geo lookups, new-tab content.
  'dom.push.enabled': false,
  'dom.push.connection.enabled': false,
  'dom.push.serverURL': '',
  'identity.fxaccounts.enabled': false,
  'services.sync.engine.addons': false,
  'browser.region.network.url': '',
  'browser.region.update.enabled': false,
  'geo.enabled': false,
  'geo.provider.network.url': '',
  'browser.newtabpage.enabled': false,
  'browser.newtabpage.activity-stream.feeds.topsites': false,
  'browser.newtabpage.activity-stream.feeds.section.topstories': false,
  'browser.newtabpage.activity-stream.feeds.system.topstories': false,
  'browser.newtabpage.activity-stream.feeds.discoverystreamfeed': false,
  'browser.newtabpage.activity-stream.discoverystream.enabled': false,
  'browser.newtabpage.activity-stream.showSponsored': false,
  'browser.newtabpage.activity-stream.showSponsoredTopSites': false,
  'browser.topsites.contile.enabled': false,
  'browser.urlbar.quicksuggest.enabled': false,
  'browser.urlbar.suggest.quicksuggest.sponsored': false,
  'browser.urlbar.suggest.quicksuggest.nonsponsored': false,
  'browser.discovery.enabled': false,
  'browser.translations.enable': false,
  'browser.ml.enable': false,
  'extensions.htmlaboutaddons.recommendations.enabled': false,

  // DNS-over-HTTPS, prefetching, speculative connections, OCSP.
  'network.trr.mode': 5,
  'doh-rollout.disable-heuristics': true,
  'network.dns.disablePrefetch': true,
  'network.dns.disablePrefetchFromHTTPS': true,
  'network.prefetch-next': false,
  'network.predictor.enabled': false,
  'network.http.speculative-parallel-limit': 0,
  'browser.urlbar.speculativeConnect.enabled': false,
  'browser.places.speculativeConnect.enabled': false,
  'security.OCSP.enabled': 0,
  'security.certerrors.mitm.priming.enabled': false,
  'network.proxy.type': 0,

  // Downloads go straight to the profile's download folder (set per launch), no dialog.
  'browser.download.folderList': 2,
  'browser.download.useDownloadDir': true,
  'browser.download.always_ask_before_handling_new_types': false,
  'browser.download.manager.showWhenStarting': false,
  'browser.download.alwaysOpenPanel': false,
  'browser.download.panel.shown': true,
  'browser.download.start_downloads_in_tmp_dir': false,
};

/**
 * Environment for Firefox: MOZ_REMOTE_SETTINGS_DEVTOOLS=1 makes the ESR
 * build honour the local `services.settings.server` (without it, it keeps
 * resolving its settings host); no crash reporter.
 */
export const FIREFOX_ENV: Readonly<Record<string, string>> = {
  MOZ_REMOTE_SETTINGS_DEVTOOLS: '1',
  MOZ_CRASHREPORTER_DISABLE: '1',
  MOZ_DISABLE_AUTO_SAFE_MODE: '1',
};

export interface LaunchFirefoxOptions {
  /** Extra preferences, applied after {@link FIREFOX_PREFS}. */
  prefs?: Record<string, string | number | boolean>;
  /** Where downloads land (default: a fresh temp dir). */
  downloadDir?: string;
  /**
   * Record every network syscall of every Firefox process (strace -f) in
   * this file; read it with {@link readNetworkAudit}. Needs strace.
   */
  auditFile?: string;
  /**
   * Start Firefox with `-remote-allow-system-access`, so
   * {@link answerFilePicker} can stand in for the file picker (needed to
   * pick a folder: WebDriver BiDi's input.setFiles takes files only).
   */
  systemAccess?: boolean;
  /** Accept self-signed certificates (WebDriver's acceptInsecureCerts), e.g. a test gateway's TLS. */
  acceptInsecureCerts?: boolean;
}

export interface FirefoxBrowser {
  readonly browser: Browser;
  /** Where this Firefox saves downloads. */
  readonly downloadDir: string;
  close(): Promise<void>;
}

/**
 * Launch Debian Firefox ESR headless with a fresh profile, through
 * puppeteer-core over WebDriver BiDi. Closed by `cleanup()` too.
 */
export async function launchFirefox(opts: LaunchFirefoxOptions = {}): Promise<FirefoxBrowser> {
  assertPrivateNetwork();
  if (!haveFirefox()) throw new Error(`${firefoxPath()} is missing: apt-get install firefox-esr`);
  const dir = makeTempDir('burrow-firefox-');
  const downloadDir = opts.downloadDir ?? join(dir, 'downloads');
  mkdirSync(downloadDir, { recursive: true });
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: opts.auditFile ? auditedExecutable(firefoxPath(), opts.auditFile, dir) : firefoxPath(),
    headless: true,
    userDataDir: join(dir, 'profile'),
    timeout: 60_000,
    protocolTimeout: 300_000,
    dumpio: Boolean(process.env['BURROW_FIREFOX_DUMPIO']),
    defaultViewport: null,
    args: opts.systemAccess ? ['-remote-allow-system-access'] : [],
    acceptInsecureCerts: opts.acceptInsecureCerts ?? false,
    env: { ...process.env, ...FIREFOX_ENV },
    extraPrefsFirefox: { ...FIREFOX_PREFS, 'browser.download.dir': downloadDir, ...opts.prefs },
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await browser.close().catch(() => { /* best-effort teardown: it may be closed already */ });
      browser.process()?.kill('SIGKILL');
      removeDir(dir);
    })());
  const unregister = onCleanup(close);
  browser.once('disconnected', () => unregister());
  return { browser, downloadDir, close };
}

/** Raw WebDriver BiDi commands on puppeteer's connection. */
interface BidiSend {
  send(method: string, params: Record<string, unknown>): Promise<{ result: Record<string, unknown> }>;
}

/**
 * The file picker as a person would use it, for Firefox launched with
 * `systemAccess`: the next picker a page opens answers with `path` — a
 * file, or a folder for an `<input webkitdirectory>`, whose files Firefox
 * then reads itself, relative paths and all. Installs (once) a stand-in
 * for `@mozilla.org/filepicker;1` in the parent process, the way
 * Firefox's own tests mock the picker; with nothing queued it cancels.
 */
export async function answerFilePicker(browser: Browser, path: string): Promise<void> {
  const bidi = (browser as unknown as { connection: BidiSend }).connection;
  const tree = await bidi.send('browsingContext.getTree', { 'moz:scope': 'chrome', maxDepth: 0 });
  const contexts = tree.result['contexts'] as { context: string }[] | undefined;
  const chrome = contexts?.[0]?.context;
  if (!chrome) throw new Error('answerFilePicker: no chrome context (launch Firefox with systemAccess: true)');
  const script = `(() => {
    const g = Services;
    g.__burrowPicks ??= [];
    g.__burrowPicks.push(${JSON.stringify(path)});
    if (g.__burrowPicker) return 'queued';
    const nsFile = (p) => { const f = Cc['@mozilla.org/file/local;1'].createInstance(Ci.nsIFile); f.initWithPath(p); return f; };
    const enumerate = (items) => {
      let i = 0;
      return { hasMoreElements: () => i < items.length, getNext: () => items[i++], [Symbol.iterator]: function* () { yield* items; },
               QueryInterface: ChromeUtils.generateQI(['nsISimpleEnumerator']) };
    };
    const factory = {
      createInstance(iid) {
        let picked = null;
        const picker = {
          init(parent, title, mode) { this.mode = mode; }, appendFilter() {}, appendFilters() {}, appendRawFilter() {}, isModeSupported: () => true,
          defaultString: '', defaultExtension: '', filterIndex: 0, displayDirectory: null, displaySpecialDirectory: '',
          addToRecentDocs: false, okButtonLabel: '', capture: 0,
          get file() { return picked && nsFile(picked); },
          get fileURL() { return picked && Services.io.newFileURI(nsFile(picked)); },
          get files() { return enumerate(picked ? [nsFile(picked)] : []); },
          open(done) {
            picked = g.__burrowPicks.shift() ?? null;
            if (picked && this.mode === Ci.nsIFilePicker.modeGetFolder) g.__burrowFolders++;
            Services.tm.dispatchToMainThread(() => done.done(picked ? Ci.nsIFilePicker.returnOK : Ci.nsIFilePicker.returnCancel));
          },
          QueryInterface: ChromeUtils.generateQI(['nsIFilePicker']),
        };
        return picker.QueryInterface(iid);
      },
      QueryInterface: ChromeUtils.generateQI(['nsIFactory']),
    };
    Components.manager.QueryInterface(Ci.nsIComponentRegistrar)
      .registerFactory(Services.uuid.generateUUID(), 'Burrow test file picker', '@mozilla.org/filepicker;1', factory);
    g.__burrowPicker = factory;
    // For a folder Firefox then asks "Upload all files from …?" in a tab-modal
    // confirm (not a WebDriver user prompt): answer Upload for folders we picked.
    g.__burrowFolders = 0;
    const { PromptParent } = ChromeUtils.importESModule('resource:///actors/PromptParent.sys.mjs');
    const title = Services.strings.createBundle('chrome://global/locale/dom/dom.properties').GetStringFromName('FolderUploadPrompt.title');
    const open = PromptParent.prototype.openPromptWithTabDialogBox;
    PromptParent.prototype.openPromptWithTabDialogBox = function (args) {
      if (g.__burrowFolders > 0 && args.promptType === 'confirmEx' && args.title === title) {
        g.__burrowFolders--;
        return Promise.resolve({ ...args, buttonNumClicked: 0, ok: true, promptAborted: false });
      }
      return open.call(this, args);
    };
    return 'installed';
  })()`;
  const r = await bidi.send('script.evaluate', { expression: script, target: { context: chrome }, awaitPromise: false });
  if (r.result['type'] === 'exception') throw new Error(`answerFilePicker: ${JSON.stringify(r.result['exceptionDetails'])}`);
}
