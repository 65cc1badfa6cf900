import { createReadStream, statSync } from 'node:fs';
import http from 'node:http';

/** A multipart/form-data POST of the file, streamed from disk with a declared length (as a browser sends it). */
export function uploadFile(
  url: string,
  key: string,
  file: string,
  filename: string,
): Promise<{ status: number; body: string }> {
  const boundary = `----conflux-bench-${Date.now()}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const length = head.length + statSync(file).size + tail.length;
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(length),
        'x-api-key': key,
      },
    });
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.write(head);
    const stream = createReadStream(file);
    stream.pipe(req, { end: false });
    stream.once('end', () => req.end(tail));
  });
}
