/**
 * Chromium only: the offscreen document that owns the agent connection when
 * it must go through the mailbox over WebRTC (the service worker has no
 * RTCPeerConnection). The service worker forwards requests here, marked
 * `target: 'offscreen'`; status notices go to every view as from the
 * background.
 */
import { answer } from './owner.js';

answer((request) => request.target === 'offscreen');
