import './base.css';
import './statusbar.css';
