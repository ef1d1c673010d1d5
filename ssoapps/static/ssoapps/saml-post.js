// The SAML auto-POST page: send the signed Response to the app's ACS URL as soon as the page is parsed.
// Without JavaScript the page's "Continue" button does the same.
document.getElementById("saml-post").submit();
