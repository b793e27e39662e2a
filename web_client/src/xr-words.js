// @ts-check
// The headset menu's own words, in the page's ten languages (the page's shared words, such as "Next" or
// "Leave the tour", come from i18n.js).
import { addWords } from "./i18n.js";

addWords({
  en: {
    xr_menu: "Menu", xr_chat: "Chat", xr_phrases: "Phrases", xr_type: "Type", xr_tour: "Tour", xr_more: "More",
    xr_close: "Close", xr_space: "space", xr_no_lines: "No messages yet.", xr_which: "Which one?", xr_text_size: "Text size",
    xr_exit: "Leave the headset view", xr_no_tour: "This scene has no tour.", xr_stop: "Stop {index} of {count}",
    xr_words_note: "Chat and tours stay in the language you entered with.", xr_typing: "Point at the keys, then Send.",
    xr_layout: "Keys",
  },
  fr: {
    xr_menu: "Menu", xr_chat: "Discussion", xr_phrases: "Phrases", xr_type: "Écrire", xr_tour: "Visite", xr_more: "Plus",
    xr_close: "Fermer", xr_space: "espace", xr_no_lines: "Pas encore de messages.", xr_which: "Lequel ?", xr_text_size: "Taille du texte",
    xr_exit: "Quitter la vue casque", xr_no_tour: "Cette scène n'a pas de visite.", xr_stop: "Étape {index} sur {count}",
    xr_words_note: "La discussion et les visites restent dans la langue choisie à l'entrée.", xr_typing: "Visez les touches, puis Envoyer.",
    xr_layout: "Touches",
  },
  es: {
    xr_menu: "Menú", xr_chat: "Chat", xr_phrases: "Frases", xr_type: "Escribir", xr_tour: "Visita", xr_more: "Más",
    xr_close: "Cerrar", xr_space: "espacio", xr_no_lines: "Aún no hay mensajes.", xr_which: "¿Cuál?", xr_text_size: "Tamaño del texto",
    xr_exit: "Salir de la vista del visor", xr_no_tour: "Esta escena no tiene visita.", xr_stop: "Parada {index} de {count}",
    xr_words_note: "El chat y las visitas siguen en el idioma con el que entraste.", xr_typing: "Apunta a las teclas y luego Enviar.",
    xr_layout: "Teclas",
  },
  ar: {
    xr_menu: "القائمة", xr_chat: "الدردشة", xr_phrases: "عبارات", xr_type: "اكتب", xr_tour: "الجولة", xr_more: "المزيد",
    xr_close: "إغلاق", xr_space: "مسافة", xr_no_lines: "لا توجد رسائل بعد.", xr_which: "أيّها؟", xr_text_size: "حجم النص",
    xr_exit: "الخروج من عرض النظارة", xr_no_tour: "لا توجد جولة في هذا المشهد.", xr_stop: "المحطة {index} من {count}",
    xr_words_note: "تبقى الدردشة والجولات باللغة التي دخلت بها.", xr_typing: "وجّه نحو المفاتيح ثم أرسل.",
    xr_layout: "المفاتيح",
  },
  zh: {
    xr_menu: "菜单", xr_chat: "聊天", xr_phrases: "短语", xr_type: "输入", xr_tour: "导览", xr_more: "更多",
    xr_close: "关闭", xr_space: "空格", xr_no_lines: "还没有消息。", xr_which: "哪一个？", xr_text_size: "文字大小",
    xr_exit: "退出头显视图", xr_no_tour: "此场景没有导览。", xr_stop: "第 {index} 站，共 {count} 站",
    xr_words_note: "聊天和导览保持进入时选择的语言。", xr_typing: "指向按键，然后发送。",
    xr_layout: "按键",
  },
  hi: {
    xr_menu: "मेनू", xr_chat: "चैट", xr_phrases: "वाक्यांश", xr_type: "लिखें", xr_tour: "टूर", xr_more: "और",
    xr_close: "बंद करें", xr_space: "स्पेस", xr_no_lines: "अभी कोई संदेश नहीं।", xr_which: "कौन-सा?", xr_text_size: "अक्षर का आकार",
    xr_exit: "हेडसेट दृश्य से बाहर निकलें", xr_no_tour: "इस दृश्य में कोई टूर नहीं है।", xr_stop: "{count} में से पड़ाव {index}",
    xr_words_note: "चैट और टूर उसी भाषा में रहते हैं जिससे आपने प्रवेश किया।", xr_typing: "कुंजियों की ओर इशारा करें, फिर भेजें।",
    xr_layout: "कुंजियाँ",
  },
  sw: {
    xr_menu: "Menyu", xr_chat: "Gumzo", xr_phrases: "Misemo", xr_type: "Andika", xr_tour: "Ziara", xr_more: "Zaidi",
    xr_close: "Funga", xr_space: "nafasi", xr_no_lines: "Bado hakuna ujumbe.", xr_which: "Kipi?", xr_text_size: "Ukubwa wa maandishi",
    xr_exit: "Ondoka kwenye mwonekano wa kifaa", xr_no_tour: "Mandhari hii haina ziara.", xr_stop: "Kituo {index} kati ya {count}",
    xr_words_note: "Gumzo na ziara hubaki katika lugha uliyoingia nayo.", xr_typing: "Elekeza kwenye vitufe, kisha Tuma.",
    xr_layout: "Vitufe",
  },
  ja: {
    xr_menu: "メニュー", xr_chat: "チャット", xr_phrases: "定型文", xr_type: "入力", xr_tour: "ツアー", xr_more: "その他",
    xr_close: "閉じる", xr_space: "スペース", xr_no_lines: "まだメッセージはありません。", xr_which: "どれですか？", xr_text_size: "文字の大きさ",
    xr_exit: "ヘッドセット表示を終了", xr_no_tour: "このシーンにはツアーがありません。", xr_stop: "{count} か所中 {index} か所目",
    xr_words_note: "チャットとツアーは入室時の言語のままです。", xr_typing: "キーを指してから送信。",
    xr_layout: "キー",
  },
  de: {
    xr_menu: "Menü", xr_chat: "Chat", xr_phrases: "Sätze", xr_type: "Schreiben", xr_tour: "Führung", xr_more: "Mehr",
    xr_close: "Schließen", xr_space: "Leerzeichen", xr_no_lines: "Noch keine Nachrichten.", xr_which: "Welches?", xr_text_size: "Textgröße",
    xr_exit: "Headset-Ansicht verlassen", xr_no_tour: "Diese Szene hat keine Führung.", xr_stop: "Station {index} von {count}",
    xr_words_note: "Chat und Führungen bleiben in der Sprache, mit der du eingetreten bist.", xr_typing: "Auf die Tasten zeigen, dann Senden.",
    xr_layout: "Tasten",
  },
  pt: {
    xr_menu: "Menu", xr_chat: "Conversa", xr_phrases: "Frases", xr_type: "Escrever", xr_tour: "Visita", xr_more: "Mais",
    xr_close: "Fechar", xr_space: "espaço", xr_no_lines: "Ainda não há mensagens.", xr_which: "Qual?", xr_text_size: "Tamanho do texto",
    xr_exit: "Sair da vista do visor", xr_no_tour: "Esta cena não tem visita.", xr_stop: "Parada {index} de {count}",
    xr_words_note: "A conversa e as visitas ficam no idioma com que você entrou.", xr_typing: "Aponte para as teclas e depois Enviar.",
    xr_layout: "Teclas",
  },
}); // prettier-ignore
