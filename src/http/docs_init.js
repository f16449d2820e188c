// GET /docs/init.js: starts Swagger UI on the page's #ui with the server's own OpenAPI document.
// A file, not an inline script, so the page holds under `default-src 'self'`; loaded with `defer`
// after the bundle, so SwaggerUIBundle and the DOM are both there when it runs.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#ui',
  deepLinking: true,
  // No badge from the public validator: the page makes no request outside this server.
  validatorUrl: null,
});
