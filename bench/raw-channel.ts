import { DEFAULT_WATERMARKS } from '@burrow/client';

/**
 * Page script for the benchmarks' baseline: one RTCDataChannel set up by
 * hand (no Burrow), with the same 64 KiB chunks and the same flow control
 * as Burrow's channel (DEFAULT_WATERMARKS: above the high mark buffered,
 * wait until it is down to the low one); exactly `bytes` are sent.
 * Expects `BCHUNK` and `bblock` (a BCHUNK-byte Uint8Array) in the
 * surrounding script. Exposes rawOffer / rawAnswer /
 * rawFinish (manual signalling), rawReady, rawSend(bytes), rawRecv(bytes)
 * (resolves with `bytes` once that many more have arrived, counting any that
 * came before the call) and rawClose.
 */
export const RAW_CHANNEL_JS = `
  let rawPc, rawDc, rawCount = 0, rawMark = 0, rawWant = Infinity, rawDone = null;
  const gathered = (pc) => new Promise((res) => { if (pc.iceGatheringState === 'complete') res(); pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && res()); });
  window.rawOffer = async () => {
    rawPc = new RTCPeerConnection(); rawDc = rawPc.createDataChannel('raw'); rawDc.binaryType = 'arraybuffer';
    await rawPc.setLocalDescription(await rawPc.createOffer()); await gathered(rawPc);
    return rawPc.localDescription.toJSON();
  };
  window.rawAnswer = async (offer) => {
    rawPc = new RTCPeerConnection();
    rawPc.addEventListener('datachannel', (e) => { rawDc = e.channel; rawDc.binaryType = 'arraybuffer'; });
    await rawPc.setRemoteDescription(offer); await rawPc.setLocalDescription(await rawPc.createAnswer()); await gathered(rawPc);
    return rawPc.localDescription.toJSON();
  };
  window.rawFinish = async (answer) => { await rawPc.setRemoteDescription(answer); if (rawDc.readyState !== 'open') await new Promise((r) => rawDc.addEventListener('open', r, { once: true })); };
  window.rawReady = async () => {
    while (!rawDc || rawDc.readyState !== 'open') await new Promise((r) => setTimeout(r, 5));
    rawDc.onmessage = (e) => { rawCount += e.data.byteLength; if (rawCount >= rawWant && rawDone) rawDone(); };
  };
  window.rawSend = async (bytes) => {
    rawDc.bufferedAmountLowThreshold = ${DEFAULT_WATERMARKS.low};
    for (let sent = 0; sent < bytes; sent += BCHUNK) {
      // Above the high mark, wait until it is down to the low one, as Burrow's channel does (polling too: not every stack fires bufferedamountlow).
      if (rawDc.bufferedAmount > ${DEFAULT_WATERMARKS.high}) {
        while (rawDc.bufferedAmount > ${DEFAULT_WATERMARKS.low}) await new Promise((r) => { rawDc.addEventListener('bufferedamountlow', r, { once: true }); setTimeout(r, ${DEFAULT_WATERMARKS.pollMs}); });
      }
      rawDc.send(bytes - sent >= BCHUNK ? bblock : bblock.subarray(0, bytes - sent));
    }
  };
  window.rawRecv = (bytes) => new Promise((resolve) => {
    rawMark += bytes; rawWant = rawMark; rawDone = () => resolve(bytes);
    if (rawCount >= rawWant) resolve(bytes);
  });
  window.rawClose = () => rawPc?.close();
`;
