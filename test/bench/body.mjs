// A download for the throughput figures: `size` bytes of filler (or of `chunk` repeated), written in 1 MiB pieces as fast as the client takes them.
const CHUNK = Buffer.alloc(1024 * 1024, 7);

export function sendBody(res, size, chunk = CHUNK) {
  res.writeHead(200, { 'content-length': String(size) });
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}
