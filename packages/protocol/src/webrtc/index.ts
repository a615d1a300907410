/**
 * @burrow/protocol/webrtc — connect-v1 and webrtc-v1 wire formats: the
 * abilities in `version`, the signalling bodies, the PAKE confirmation MAC
 * and the data-channel control text. Sans-I/O: the RTCPeerConnection and its
 * channels live in @burrow/client.
 */
export * from './abilities.js';
export * from './peer-info.js';
export * from './signalling.js';
export * from './confirm.js';
export * from './control.js';
