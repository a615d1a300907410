/**
 * webrtc-v1 signalling: the bodies of the wormhole messages
 * `{"webrtc-v1": BODY}` that negotiate one RTCPeerConnection, in order:
 *
 *   leader → follower  {"description": {"type": "offer", "sdp": …}}
 *   follower → leader  {"description": {"type": "answer", "sdp": …}}
 *   both (trickle)     {"candidate": {candidate, sdpMid, sdpMLineIndex, usernameFragment}}
 *                      {"candidate": null}                     end of candidates
 *   both, last         {"done": "webrtc" | "fallback" | "failed", "reason"?: …}
 *
 * They travel only inside the encrypted wormhole, so the mailbox can neither
 * read nor rewrite the DTLS fingerprints in the SDP. Candidates travel only
 * as trickle messages: a description is sent without its candidate lines.
 * Unknown bodies parse as `{type: 'unknown'}` (ignored); a known key with a
 * malformed value is `RemoteProtocol`.
 */
import { WormholeError } from '../errors.js';
import { isJsonObject, type JsonObject } from '../json.js';

/** An SDP offer or answer (the shape of `RTCSessionDescriptionInit` we send and accept). */
export interface SessionDescription {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}

/** One trickled ICE candidate (the fields of `RTCIceCandidateInit` we carry). */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string;
}

/** How a side ends the negotiation: connected, giving up for the relay, or a failed confirmation. */
export type WebRtcDone = 'webrtc' | 'fallback' | 'failed';

/** A parsed `webrtc-v1` body. */
export type WebRtcSignal =
  | { readonly type: 'description'; readonly description: SessionDescription }
  /** `candidate: null` ends the peer's candidates. */
  | { readonly type: 'candidate'; readonly candidate: IceCandidate | null }
  | { readonly type: 'done'; readonly done: WebRtcDone; readonly reason: string }
  | { readonly type: 'unknown' };

/** Largest SDP we accept from the peer. */
export const MAX_SDP_LENGTH = 64 * 1024;
const MAX_CANDIDATE_LENGTH = 1024;
const MAX_REASON_LENGTH = 500;

function bad(what: string): WormholeError {
  return new WormholeError('RemoteProtocol', `webrtc-v1: malformed ${what}`);
}

/**
 * Parse one `webrtc-v1` body (already a JSON object).
 *
 * @example
 * const s = parseWebRtcSignal(body);
 * if (s.type === 'description') await pc.setRemoteDescription(s.description);
 */
export function parseWebRtcSignal(body: JsonObject): WebRtcSignal {
  const d = body['description'];
  if (typeof d === 'object' && d !== null) {
    const { type, sdp } = d as Record<string, unknown>;
    if ((type === 'offer' || type === 'answer') && typeof sdp === 'string' && sdp.length <= MAX_SDP_LENGTH) return { type: 'description', description: { type, sdp } };
    throw bad('description');
  }
  if ('candidate' in body) {
    const c = body['candidate'];
    if (c === null) return { type: 'candidate', candidate: null };
    if (isJsonObject(c) && typeof c['candidate'] === 'string') {
      const candidate: IceCandidate = { candidate: c['candidate'].slice(0, MAX_CANDIDATE_LENGTH) };
      if (typeof c['sdpMid'] === 'string') candidate.sdpMid = c['sdpMid'];
      if (typeof c['sdpMLineIndex'] === 'number') candidate.sdpMLineIndex = c['sdpMLineIndex'];
      if (typeof c['usernameFragment'] === 'string') candidate.usernameFragment = c['usernameFragment'];
      return { type: 'candidate', candidate };
    }
    throw bad('candidate');
  }
  const done = body['done'];
  if (done === 'webrtc' || done === 'fallback' || done === 'failed') {
    const reason = body['reason'];
    return { type: 'done', done, reason: typeof reason === 'string' ? reason.slice(0, MAX_REASON_LENGTH) : '' };
  }
  return { type: 'unknown' };
}

/** `{"description": {type, sdp}}`, the SDP without candidate lines (they trickle). */
export function encodeDescription(description: { type: string; sdp?: string | undefined }): JsonObject {
  return { description: { type: description.type, sdp: sdpWithoutCandidates(description.sdp ?? '') } };
}

/** `{"candidate": …}`; `null` ends our candidates. */
export function encodeCandidate(candidate: IceCandidate | null): JsonObject {
  return { candidate };
}

/** `{"done": …}`, with a reason when there is one. */
export function encodeDone(done: WebRtcDone, reason?: string): JsonObject {
  return reason ? { done, reason } : { done };
}

/** An SDP without `a=candidate:` and `a=end-of-candidates` lines. */
export function sdpWithoutCandidates(sdp: string): string {
  return sdp
    .split(/\r\n/)
    .filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates')
    .join('\r\n');
}

/**
 * A local candidate as we send it: the bare `candidate:…` (node-datachannel
 * writes the SDP attribute line `a=candidate:…`, browsers want the bare one).
 */
export function outgoingCandidate(c: { candidate: string; sdpMid?: string | null; sdpMLineIndex?: number | null; usernameFragment?: string | null }): IceCandidate {
  const out: IceCandidate = { candidate: c.candidate.replace(/^a=/, '') };
  if (c.sdpMid !== undefined) out.sdpMid = c.sdpMid;
  if (c.sdpMLineIndex !== undefined) out.sdpMLineIndex = c.sdpMLineIndex;
  if (c.usernameFragment) out.usernameFragment = c.usernameFragment;
  return out;
}

/** Whether a candidate line is a TURN relay candidate (`typ relay`). */
export function isRelayCandidate(candidate: string): boolean {
  return / typ relay( |$)/.test(candidate);
}
