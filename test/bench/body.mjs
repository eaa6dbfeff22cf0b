// A download for the throughput figures: `size` bytes of filler, written in 1 MiB pieces as fast as the client takes them.
const CHUNK = Buffer.alloc(1024 * 1024, 7);

export function sendBody(res, size) {
  res.writeHead(200, { 'content-length': String(size) });
  let sent = 0;
  const pump = () => {
    while (sent < size) {
      sent += CHUNK.length;
      if (!res.write(CHUNK)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}
