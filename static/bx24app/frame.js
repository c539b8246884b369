/* BX24.js integration, optional: the page works when api.bitrix24.com does not load (tests, blocked CDN). */
(function () {
  window.bx24Fit = function () {
    if (window.BX24 && typeof window.BX24.fitWindow === "function") {
      try { window.BX24.fitWindow(); } catch (e) { /* not inside a portal frame */ }
    }
  };
  window.bx24Loaded = function () {
    if (window.BX24 && typeof window.BX24.init === "function") {
      try { window.BX24.init(window.bx24Fit); } catch (e) { /* ignore */ }
    }
  };
})();
