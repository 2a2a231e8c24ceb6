// Preloaded (NODE_OPTIONS=--import) into a server started with the image's exact command on
// this host. functions-framework's main.js listens on every interface (it has no host option;
// in a Pod that is the Pod's own network), and processes here bind loopback only: a listen
// given a port and no host binds 127.0.0.1 instead.
import net from 'node:net';

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const [port, ...rest] = args;
  if (typeof port === 'number' || (typeof port === 'string' && /^\d+$/.test(port))) {
    const callback = rest.find((a) => typeof a === 'function');
    return listen.call(this, Number(port), '127.0.0.1', ...(callback ? [callback] : []));
  }
  return listen.apply(this, args);
};
