// GET /: the dashboard, a folder of static files (web/) plus uPlot from node_modules under
// vendor/. Every URL in the page is relative, so it also works below a proxy prefix (/llm/).
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { UPLOT_ROOT, VENDOR_FILES, WEB_ROOT } from '../src/http/web-assets.js';

const dashboardRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // @fastify/static takes no route config, so the scope is set on every route it adds here.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, scope: 'public' };
  });
  // One route per file found at start-up, no wildcard: unknown paths stay 404s of the app.
  await app.register(fastifyStatic, { root: WEB_ROOT, prefix: '/', wildcard: false, index: ['index.html'], globIgnore: ['**/*.md'] });
  for (const [name, file] of Object.entries(VENDOR_FILES)) {
    app.get(`/vendor/${name}`, { schema: { hide: true } }, (_request, reply) => reply.sendFile(file, UPLOT_ROOT));
  }
};

export default dashboardRoutes;
