/* Sina's image host (n.sinaimg.cn) refuses image requests that carry another site's Referer
 * (403). Volantis draws `headimg` and `thumbnail` without a referrerpolicy, so every page asks
 * the browser to send no Referer at all. */
hexo.extend.injector.register('head_begin', '<meta name="referrer" content="no-referrer">');
