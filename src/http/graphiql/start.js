// Starts GraphiQL on rectrack's own page. Everything it loads comes from rectrack itself (the
// page's Content-Security-Policy allows nothing else); the settings come from a JSON block in
// the page, since the policy allows no inline script.
(function () {
  'use strict';
  var settings = JSON.parse(document.getElementById('rectrack-graphiql').textContent);
  var params = new URLSearchParams(window.location.search);
  var fetcher = GraphiQL.createFetcher({ url: settings.endpoint });
  var props = {
    fetcher: fetcher,
    defaultEditorToolsVisibility: settings.headers ? 'headers' : false,
    // Tokens are not kept in the browser's storage.
    shouldPersistHeaders: false,
  };
  if (settings.headers) {
    props.defaultHeaders = settings.headers;
    props.headers = settings.headers;
  }
  // A link may carry the operation to open (`?query=...`), never a token.
  if (params.get('query')) {
    props.query = params.get('query');
  }
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, props));
})();
