"""Site content staff publish: banners and news and media items on the home page (網站首頁)."""
