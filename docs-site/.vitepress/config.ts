import { defineConfig } from 'vitepress';
import { withMermaid } from 'vitepress-plugin-mermaid';

// Dead links fail the build (VitePress default); keep it that way.
export default withMermaid(
  defineConfig({
  title: 'Burrow',
  description: 'Secure peer-to-peer connections from the browser, compatible with magic-wormhole',
  cleanUrls: true,
  lastUpdated: false,
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'API', link: '/api/' },
      { text: 'Protocol', link: '/protocol/' },
    ],
    sidebar: [
      {
        text: 'Guide',
        items: [
          { text: 'Getting started', link: '/guide/getting-started' },
          { text: 'Install', link: '/guide/install' },
          { text: 'Use in a Vite app', link: '/guide/vite' },
          { text: 'Use in an extension', link: '/guide/extension' },
          { text: 'Command line', link: '/guide/cli' },
          { text: 'Files and folders', link: '/guide/files' },
          { text: 'Running the gateway', link: '/guide/gateway' },
          { text: 'Run the gateway as a service', link: '/guide/service' },
          { text: 'Many gateway processes (Redis)', link: '/guide/scaling' },
          { text: 'Local agent and extensions', link: '/guide/agent' },
        ],
      },
      {
        text: 'API',
        items: [
          { text: 'Client API', link: '/api/' },
          { text: 'Errors', link: '/api/errors' },
          { text: 'Packages and testing', link: '/api/packages' },
        ],
      },
      {
        text: 'Protocol',
        items: [
          { text: 'Protocol and security', link: '/protocol/' },
          { text: 'connect(): webrtc-v1, mux-v1', link: '/protocol/connect' },
          { text: 'files-v1: many files, resumable', link: '/protocol/files-v1' },
          { text: 'State machines', link: '/protocol/machines' },
        ],
      },
    ],
    search: { provider: 'local' },
  },
}),
);
