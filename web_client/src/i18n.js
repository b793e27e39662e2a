// The page's own words in the visitor's language. Right-to-left languages turn the page around.
const STRINGS = {
  en: {
    lead: "Meet people from everywhere around a cultural scene.", scene: "Scene", name: "Your name", language: "Language",
    colour: "Avatar colour", enter: "Enter", say: "Say something…", send: "Send", here: "here",
    help: "WASD or arrows to walk · drag to look · click the floor to walk there", loading: "Loading the scene…", joining: "Joining…",
    joined: "{name} joined", left: "{name} left", machine: "machine-translated", show_original: "show original",
    show_translation: "show translation", unavailable: "no translation: the original", mute: "Mute", unmute: "Unmute",
    report: "Report", reported: "Reported. Thank you.", muted: "You muted {name}.", quick: "Quick phrase", something: "(choose)",
    generated: "generated", looks_like: "looks like {language}",
  },
  fr: {
    lead: "Rencontrez des gens du monde entier autour d'une scène culturelle.", scene: "Scène", name: "Votre nom", language: "Langue",
    colour: "Couleur de l'avatar", enter: "Entrer", say: "Dites quelque chose…", send: "Envoyer", here: "ici",
    help: "ZQSD ou flèches pour marcher · glisser pour regarder · cliquer sur le sol pour s'y rendre", loading: "Chargement de la scène…",
    joining: "Connexion…", joined: "{name} est arrivé·e", left: "{name} est parti·e", machine: "traduction automatique",
    show_original: "voir l'original", show_translation: "voir la traduction", unavailable: "pas de traduction : l'original",
    mute: "Masquer", unmute: "Afficher", report: "Signaler", reported: "Signalé. Merci.", muted: "Vous avez masqué {name}.",
    quick: "Phrase rapide", something: "(choisir)", generated: "généré", looks_like: "ressemble à : {language}",
  },
  es: {
    lead: "Conoce a gente de todas partes en torno a una escena cultural.", scene: "Escena", name: "Tu nombre", language: "Idioma",
    colour: "Color del avatar", enter: "Entrar", say: "Di algo…", send: "Enviar", here: "aquí",
    help: "WASD o flechas para caminar · arrastra para mirar · haz clic en el suelo para ir", loading: "Cargando la escena…",
    joining: "Entrando…", joined: "{name} ha llegado", left: "{name} se ha ido", machine: "traducción automática",
    show_original: "ver original", show_translation: "ver traducción", unavailable: "sin traducción: el original",
    mute: "Silenciar", unmute: "Mostrar", report: "Denunciar", reported: "Denunciado. Gracias.", muted: "Has silenciado a {name}.",
    quick: "Frase rápida", something: "(elige)", generated: "generado", looks_like: "parece {language}",
  },
  ar: {
    lead: "التقِ بأناس من كل مكان حول مشهد ثقافي.", scene: "المشهد", name: "اسمك", language: "اللغة", colour: "لون الصورة الرمزية",
    enter: "ادخل", say: "قل شيئًا…", send: "أرسل", here: "هنا",
    help: "مفاتيح WASD أو الأسهم للمشي · اسحب للنظر · انقر على الأرض للذهاب إليها", loading: "جارٍ تحميل المشهد…",
    joining: "جارٍ الانضمام…", joined: "انضم {name}", left: "غادر {name}", machine: "ترجمة آلية", show_original: "اعرض الأصل",
    show_translation: "اعرض الترجمة", unavailable: "لا توجد ترجمة: هذا هو الأصل", mute: "كتم", unmute: "إلغاء الكتم",
    report: "إبلاغ", reported: "تم الإبلاغ. شكرًا لك.", muted: "لقد كتمت {name}.", quick: "عبارة سريعة", something: "(اختر)",
    generated: "مُولَّد", looks_like: "تبدو {language}",
  },
  zh: {
    lead: "围绕一个文化场景，与来自世界各地的人相遇。", scene: "场景", name: "你的名字", language: "语言", colour: "头像颜色", enter: "进入",
    say: "说点什么…", send: "发送", here: "人在此", help: "WASD 或方向键行走 · 拖动查看 · 点击地面前往", loading: "正在加载场景…",
    joining: "正在加入…", joined: "{name} 加入了", left: "{name} 离开了", machine: "机器翻译", show_original: "显示原文",
    show_translation: "显示译文", unavailable: "无翻译：原文", mute: "屏蔽", unmute: "取消屏蔽", report: "举报", reported: "已举报，谢谢。",
    muted: "你已屏蔽 {name}。", quick: "快捷短语", something: "（选择）", generated: "生成", looks_like: "看起来是{language}",
  },
  hi: {
    lead: "एक सांस्कृतिक दृश्य के आसपास दुनिया भर के लोगों से मिलिए।", scene: "दृश्य", name: "आपका नाम", language: "भाषा",
    colour: "अवतार का रंग", enter: "प्रवेश करें", say: "कुछ कहिए…", send: "भेजें", here: "यहाँ",
    help: "चलने के लिए WASD या तीर · देखने के लिए खींचें · वहाँ जाने के लिए फ़र्श पर क्लिक करें", loading: "दृश्य लोड हो रहा है…",
    joining: "जुड़ रहे हैं…", joined: "{name} आए", left: "{name} चले गए", machine: "मशीनी अनुवाद", show_original: "मूल दिखाएँ",
    show_translation: "अनुवाद दिखाएँ", unavailable: "अनुवाद नहीं: मूल पाठ", mute: "म्यूट करें", unmute: "अनम्यूट करें",
    report: "रिपोर्ट करें", reported: "रिपोर्ट हो गई। धन्यवाद।", muted: "आपने {name} को म्यूट किया।", quick: "त्वरित वाक्य",
    something: "(चुनें)", generated: "निर्मित", looks_like: "{language} लगता है",
  },
  sw: {
    lead: "Kutana na watu kutoka kila mahali kuzunguka mandhari ya kitamaduni.", scene: "Mandhari", name: "Jina lako", language: "Lugha",
    colour: "Rangi ya avatar", enter: "Ingia", say: "Sema kitu…", send: "Tuma", here: "hapa",
    help: "WASD au mishale kutembea · buruta kutazama · bofya sakafu kwenda huko", loading: "Inapakia mandhari…", joining: "Inajiunga…",
    joined: "{name} amejiunga", left: "{name} ameondoka", machine: "tafsiri ya mashine", show_original: "onyesha asili",
    show_translation: "onyesha tafsiri", unavailable: "hakuna tafsiri: maandishi asili", mute: "Nyamazisha", unmute: "Rudisha sauti",
    report: "Ripoti", reported: "Imeripotiwa. Asante.", muted: "Umemnyamazisha {name}.", quick: "Sentensi ya haraka",
    something: "(chagua)", generated: "imetengenezwa", looks_like: "inaonekana {language}",
  },
  ja: {
    lead: "文化の場面をかこんで、世界中の人と出会おう。", scene: "シーン", name: "名前", language: "言語", colour: "アバターの色", enter: "入る",
    say: "何か話そう…", send: "送信", here: "人", help: "WASD か矢印キーで歩く · ドラッグで見回す · 床をクリックしてそこへ移動",
    loading: "シーンを読み込み中…", joining: "参加中…", joined: "{name} さんが来ました", left: "{name} さんが去りました", machine: "機械翻訳",
    show_original: "原文を表示", show_translation: "翻訳を表示", unavailable: "翻訳なし：原文", mute: "ミュート", unmute: "ミュート解除",
    report: "報告", reported: "報告しました。ありがとう。", muted: "{name} さんをミュートしました。", quick: "クイックフレーズ",
    something: "（選択）", generated: "生成", looks_like: "{language}のようです",
  },
  de: {
    lead: "Triff Menschen aus aller Welt rund um eine kulturelle Szene.", scene: "Szene", name: "Dein Name", language: "Sprache",
    colour: "Avatarfarbe", enter: "Eintreten", say: "Sag etwas…", send: "Senden", here: "hier",
    help: "WASD oder Pfeiltasten zum Gehen · ziehen zum Umsehen · auf den Boden klicken, um dorthin zu gehen", loading: "Szene wird geladen…",
    joining: "Beitreten…", joined: "{name} ist da", left: "{name} ist gegangen", machine: "maschinell übersetzt",
    show_original: "Original zeigen", show_translation: "Übersetzung zeigen", unavailable: "keine Übersetzung: das Original",
    mute: "Stummschalten", unmute: "Wieder zeigen", report: "Melden", reported: "Gemeldet. Danke.", muted: "Du hast {name} stummgeschaltet.",
    quick: "Schnellsatz", something: "(wählen)", generated: "generiert", looks_like: "sieht nach {language} aus",
  },
  pt: {
    lead: "Conheça pessoas de todo o mundo em torno de uma cena cultural.", scene: "Cena", name: "Seu nome", language: "Idioma",
    colour: "Cor do avatar", enter: "Entrar", say: "Diga algo…", send: "Enviar", here: "aqui",
    help: "WASD ou setas para andar · arraste para olhar · clique no chão para ir até lá", loading: "Carregando a cena…",
    joining: "Entrando…", joined: "{name} entrou", left: "{name} saiu", machine: "tradução automática", show_original: "ver original",
    show_translation: "ver tradução", unavailable: "sem tradução: o original", mute: "Silenciar", unmute: "Mostrar", report: "Denunciar",
    reported: "Denunciado. Obrigado.", muted: "Você silenciou {name}.", quick: "Frase rápida", something: "(escolha)",
    generated: "gerado", looks_like: "parece {language}",
  },
}; // prettier-ignore

export const LANGUAGES = Object.keys(STRINGS);
const RTL = new Set(["ar", "he", "fa", "ur"]);
let current = "en";

export function primary(tag) {
  return (tag || "en").split("-")[0].toLowerCase();
}

export function isRtl(tag) {
  return RTL.has(primary(tag));
}

export function t(key, vars = {}) {
  const text = STRINGS[current]?.[key] ?? STRINGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => vars[name] ?? "");
}

// The name of a language, written in the reader's language (Intl knows them all).
export function languageName(tag) {
  try {
    return new Intl.DisplayNames([current], { type: "language" }).of(tag) || tag;
  } catch {
    return tag;
  }
}

// Use `tag` for the page: words, direction, and the lang attribute screen readers use.
export function setLanguage(tag) {
  current = STRINGS[primary(tag)] ? primary(tag) : "en";
  document.documentElement.lang = tag;
  document.documentElement.dir = isRtl(tag) ? "rtl" : "ltr";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  return current;
}

export function language() {
  return current;
}
